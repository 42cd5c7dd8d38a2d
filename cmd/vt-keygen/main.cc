// vt-keygen: makes and inspects VidTorrent identities (docs/keyfile.md).
//
//   vt-keygen -o alice.key          new identity in alice.key (mode 0600); prints its peer id
//   vt-keygen -o -                  new identity on stdout; the peer id goes to stderr
//   vt-keygen show alice.key        the peer id of a key file (--json for more; - reads stdin)
//   vt-keygen check-id vt1...       checks a peer id for typos and prints it normalized
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/crypto/key_file.h"
#include "lib/crypto/peer_id.h"
#include "lib/crypto/secret_bytes.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/error.h"
#include "lib/kernel/hex.h"
#include "lib/kernel/log.h"

namespace {

using peers::Errc;
using peers::Error;

// Control characters of a user's argument would break the one-line message.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

void write_stdout(std::string_view text) {
  std::cout << text << std::flush;
  if (!std::cout) throw Error(Errc::kIo, "cannot write to stdout");
}

// Reads a key file from stdin, at most kMaxKeyFileSize bytes (and one more,
// to notice a longer input).
peers::Result<peers::Identity> read_key_from_stdin() {
  peers::SecretBytes buffer(peers::kMaxKeyFileSize + 1);
  std::size_t size = 0;
  while (size < buffer.size()) {
    ssize_t n = ::read(STDIN_FILENO, buffer.data() + size, buffer.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Error(Errc::kIo, "cannot read key from stdin: " + std::string(strerror(errno)));
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  auto identity =
      peers::decode_key_file(std::string_view(reinterpret_cast<char*>(buffer.data()), size));
  if (!identity) {
    return Error(identity.error().code(),
                 "cannot read key from stdin: " + identity.error().message());
  }
  return identity;
}

int make_key(const std::string& path, bool force) {
  peers::Identity identity = peers::Identity::generate();
  std::string peer_id = identity.peer_id().to_string();
  if (path == "-") {
    std::string text = peers::encode_key_file(identity);
    std::cout << text << std::flush;
    peers::wipe(text);
    if (!std::cout) throw Error(Errc::kIo, "cannot write to stdout");
    std::cerr << peer_id << std::endl;
    return peers::kExitOk;
  }
  struct stat st {};
  if (!force && ::lstat(path.c_str(), &st) == 0) {
    throw peers::usage_error("'" + path + "' exists; use --force to replace it");
  }
  // save_key_file refuses again if the file appeared since lstat().
  peers::save_key_file(path, identity, force).value();
  write_stdout(peer_id + "\n");
  return peers::kExitOk;
}

int show_key(const std::string& path, bool json) {
  std::vector<std::string> warnings;
  peers::Result<peers::Identity> identity =
      path == "-" ? read_key_from_stdin() : peers::load_key_file(path, &warnings);
  for (const std::string& warning : warnings) peers::log_warn(warning);
  if (!identity) throw identity.error();
  peers::PeerId id = identity->peer_id();
  if (!json) {
    write_stdout(id.to_string() + "\n");
    return peers::kExitOk;
  }
  nlohmann::ordered_json out = {
      {"peer_id", id.to_string()},
      {"short_id", id.short_id()},
      {"public_key", peers::to_hex(id.public_key())},
      {"version", peers::kKeyFileVersion},
  };
  write_stdout(out.dump() + "\n");
  return peers::kExitOk;
}

int check_id(const std::string& text) {
  peers::Result<peers::PeerId> id = peers::PeerId::parse(text);
  if (!id) {
    throw peers::usage_error("bad peer id '" + printable(text) + "': " + id.error().message());
  }
  write_stdout(id->to_string() + "\n");
  return peers::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  peers::ToolCli cli("vt-keygen",
                     "Makes and inspects VidTorrent identities: Ed25519 key files and peer ids.",
                     "vt-keygen -o alice.key\n  vt-keygen show alice.key --json\n"
                     "  vt-keygen check-id vt1...");
  CLI::App& app = cli.app();
  app.require_subcommand(0, 1);

  std::string output;
  bool force = false;
  CLI::Option* output_option =
      app.add_option("-o,--output", output,
                     "Write a new identity to this key file (mode 0600); - writes to stdout")
          ->option_text("FILE");
  CLI::Option* force_option = app.add_flag("--force", force, "Replace an existing key file");

  CLI::App* show = app.add_subcommand("show", "Print the peer id of a key file");
  show->footer("Example:\n  vt-keygen show alice.key --json\n  vt-keygen -o - | vt-keygen show -");
  std::string show_path;
  bool show_json = false;
  show->add_option("file", show_path, "Key file to read; - reads stdin")
      ->option_text("FILE")
      ->required();
  show->add_flag("--json", show_json,
                 "Print one JSON object: peer_id, short_id, public_key (hex), version");

  CLI::App* check =
      app.add_subcommand("check-id", "Check a peer id for typos; print it normalized");
  check->footer(
      "Example:\n  vt-keygen check-id "
      "vt1aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dyp6pwu22i");
  std::string id_text;
  check->add_option("id", id_text, "Peer id (vt1...)")->option_text("PEER_ID")->required();

  if (argc <= 1) {
    std::cerr << app.help();
    return peers::kExitUsage;
  }
  return cli.run(argc, argv, [&] {
    bool subcommand = show->parsed() || check->parsed();
    if (subcommand && (output_option->count() > 0 || force_option->count() > 0)) {
      throw peers::usage_error("-o and --force cannot be combined with a subcommand");
    }
    if (show->parsed()) return show_key(show_path, show_json);
    if (check->parsed()) return check_id(id_text);
    if (output_option->count() == 0) {
      if (force) throw peers::usage_error("--force needs -o FILE");
      throw peers::usage_error(
          "nothing to do: give -o FILE or a subcommand (see vt-keygen --help)");
    }
    if (output.empty()) throw peers::usage_error("-o needs a file name");
    return make_key(output, force);
  });
}
