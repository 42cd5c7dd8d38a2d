// Runs the real vt-keygen binary for each of its documented behaviours.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lib/crypto/key_file.h"
#include "lib/crypto/peer_id.h"
#include "lib/kernel/hex.h"
#include "lib/kernel/subprocess.h"
#include "tests/support/runfiles.h"

namespace peers {
namespace {

using test::runfile;

class KeygenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TEST_TMPDIR");
    dir_ = std::string(base != nullptr ? base : "/tmp") + "/keygen_test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  static Output keygen(const std::vector<std::string>& args, std::string_view input = {}) {
    static const std::string binary = runfile("cmd/vt-keygen/vt-keygen");
    Result<Output> out = Subprocess::run(binary, args, input);
    EXPECT_TRUE(out.ok()) << out.error().what();
    return out.ok() ? *out : Output{ExitStatus::exited(-1), "", ""};
  }

  // Makes a key file and returns its peer id (checked to be one clean line).
  std::string make_key(const std::string& name) {
    Output out = keygen({"-o", path(name)});
    EXPECT_EQ(out.status, ExitStatus::exited(0)) << out.err;
    EXPECT_EQ(out.err, "");
    EXPECT_EQ(out.out.size(), PeerId::kTextSize + 1) << out.out;
    return out.out.substr(0, PeerId::kTextSize);
  }

  static std::string read_file(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static void write_file(const std::string& file, std::string_view text) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  }

  static mode_t mode_of(const std::string& file) {
    struct stat st {};
    EXPECT_EQ(::stat(file.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  // Replaces the value of one "name: value" line.
  static std::string with_field(std::string text, const std::string& name,
                                const std::string& value) {
    auto start = text.find(name + ": ");
    EXPECT_NE(start, std::string::npos);
    start += name.size() + 2;
    return text.replace(start, text.find('\n', start) - start, value);
  }

  static std::string field(const std::string& text, const std::string& name) {
    auto start = text.find(name + ": ") + name.size() + 2;
    return text.substr(start, text.find('\n', start) - start);
  }

  // Expects vt-keygen to fail with exit 2, printing exactly one stderr line.
  static void expect_usage_failure(const Output& out, const std::string& line) {
    EXPECT_EQ(out.status, ExitStatus::exited(2));
    EXPECT_EQ(out.out, "");
    EXPECT_EQ(out.err, "vt-keygen: " + line + "\n");
  }

  std::string dir_;
};

TEST_F(KeygenTest, NewKeyPrintsThePeerIdThatShowReports) {
  std::string id = make_key("alice.key");
  EXPECT_TRUE(PeerId::parse(id).ok()) << id;
  EXPECT_EQ(mode_of(path("alice.key")), 0600u);

  Output shown = keygen({"show", path("alice.key")});
  EXPECT_EQ(shown.status, ExitStatus::exited(0));
  EXPECT_EQ(shown.out, id + "\n");
  EXPECT_EQ(shown.err, "");

  Result<Identity> loaded = load_key_file(path("alice.key"), nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.error().what();
  EXPECT_EQ(loaded->peer_id().to_string(), id);
}

TEST_F(KeygenTest, EachRunMakesANewIdentity) { EXPECT_NE(make_key("a.key"), make_key("b.key")); }

TEST_F(KeygenTest, DashWritesTheKeyToStdoutAndTheIdToStderr) {
  Output out = keygen({"-o", "-"});
  EXPECT_EQ(out.status, ExitStatus::exited(0));
  Result<Identity> identity = decode_key_file(out.out);
  ASSERT_TRUE(identity.ok()) << identity.error().what() << "\n" << out.out;
  std::string id = identity->peer_id().to_string();
  EXPECT_EQ(out.out, encode_key_file(*identity));  // nothing else on stdout
  EXPECT_EQ(out.err, id + "\n");

  Output shown = keygen({"show", "-"}, out.out);
  EXPECT_EQ(shown.status, ExitStatus::exited(0));
  EXPECT_EQ(shown.out, id + "\n");
}

TEST_F(KeygenTest, RefusesToReplaceAnExistingFile) {
  make_key("alice.key");
  std::string before = read_file(path("alice.key"));
  expect_usage_failure(keygen({"-o", path("alice.key")}),
                       "'" + path("alice.key") + "' exists; use --force to replace it");
  EXPECT_EQ(read_file(path("alice.key")), before);
}

TEST_F(KeygenTest, ForceReplacesAnExistingFile) {
  std::string old_id = make_key("alice.key");
  ASSERT_EQ(::chmod(path("alice.key").c_str(), 0644), 0);
  Output out = keygen({"-o", path("alice.key"), "--force"});
  EXPECT_EQ(out.status, ExitStatus::exited(0)) << out.err;
  EXPECT_EQ(out.err, "");
  std::string new_id = out.out.substr(0, PeerId::kTextSize);
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(mode_of(path("alice.key")), 0600u);
  EXPECT_EQ(keygen({"show", path("alice.key")}).out, new_id + "\n");
}

TEST_F(KeygenTest, ShowJsonPrintsOneObjectWithAllFields) {
  std::string id = make_key("alice.key");
  Output out = keygen({"show", path("alice.key"), "--json"});
  EXPECT_EQ(out.status, ExitStatus::exited(0));
  EXPECT_EQ(out.err, "");
  ASSERT_FALSE(out.out.empty());
  EXPECT_EQ(out.out.find('\n'), out.out.size() - 1);  // one line
  nlohmann::json json = nlohmann::json::parse(out.out);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json.size(), 4u);
  EXPECT_EQ(json["peer_id"], id);
  PeerId peer = PeerId::parse(id).value();
  EXPECT_EQ(json["short_id"], peer.short_id());
  EXPECT_EQ(json["short_id"], id.substr(0, 11));
  EXPECT_EQ(json["public_key"], to_hex(peer.public_key()));
  EXPECT_EQ(json["public_key"].get<std::string>().size(), 64u);
  EXPECT_EQ(json["version"], 1);
}

TEST_F(KeygenTest, ShowMissingFile) {
  expect_usage_failure(keygen({"show", path("missing.key")}),
                       "cannot read key file '" + path("missing.key") + "': no such file");
}

TEST_F(KeygenTest, ShowTruncatedFile) {
  make_key("alice.key");
  std::string text = read_file(path("alice.key"));
  write_file(path("alice.key"), text.substr(0, text.size() - 10));
  expect_usage_failure(keygen({"show", path("alice.key")}),
                       "cannot read key file '" + path("alice.key") +
                           "': truncated file: the last line is incomplete");
}

TEST_F(KeygenTest, ShowFileWithAFlippedSecretCharacter) {
  make_key("alice.key");
  std::string text = read_file(path("alice.key"));
  std::string secret = field(text, "secret");
  secret[7] = secret[7] == 'Q' ? 'R' : 'Q';
  write_file(path("alice.key"), with_field(text, "secret", secret));
  expect_usage_failure(keygen({"show", path("alice.key")}),
                       "cannot read key file '" + path("alice.key") +
                           "': peer-id does not match the secret key: file corrupted");
}

TEST_F(KeygenTest, ShowFileWithAnotherPeerId) {
  make_key("alice.key");
  std::string bob = make_key("bob.key");
  write_file(path("alice.key"), with_field(read_file(path("alice.key")), "peer-id", bob));
  expect_usage_failure(keygen({"show", path("alice.key")}),
                       "cannot read key file '" + path("alice.key") +
                           "': peer-id does not match the secret key: file corrupted");
}

TEST_F(KeygenTest, ShowFileWithAMistypedPeerId) {
  std::string id = make_key("alice.key");
  id[30] = id[30] == 'a' ? 'b' : 'a';
  write_file(path("alice.key"), with_field(read_file(path("alice.key")), "peer-id", id));
  expect_usage_failure(keygen({"show", path("alice.key")}),
                       "cannot read key file '" + path("alice.key") +
                           "': bad peer-id: checksum mismatch: a character is mistyped");
}

TEST_F(KeygenTest, ShowFileThatIsNoKey) {
  write_file(path("notes.txt"), "shopping list\n");
  expect_usage_failure(keygen({"show", path("notes.txt")}),
                       "cannot read key file '" + path("notes.txt") + "': not a VidTorrent key");
  write_file(path("empty.key"), "");
  expect_usage_failure(keygen({"show", path("empty.key")}),
                       "cannot read key file '" + path("empty.key") + "': empty file");
}

TEST_F(KeygenTest, ShowCorruptedKeyOnStdin) {
  expect_usage_failure(keygen({"show", "-"}, "vt-key: 7\n"),
                       "cannot read key from stdin: unsupported key file version '7' (this "
                       "program reads version 1)");
  expect_usage_failure(keygen({"show", "-"}), "cannot read key from stdin: empty file");
}

TEST_F(KeygenTest, ShowWarnsAboutLoosePermissionsButWorks) {
  std::string id = make_key("alice.key");
  ASSERT_EQ(::chmod(path("alice.key").c_str(), 0644), 0);
  Output out = keygen({"show", path("alice.key")});
  EXPECT_EQ(out.status, ExitStatus::exited(0));
  EXPECT_EQ(out.out, id + "\n");
  EXPECT_EQ(out.err, "vt-keygen: warn: key file '" + path("alice.key") +
                         "' is readable by others (mode 0644); run chmod 600\n");
}

TEST_F(KeygenTest, CheckIdPrintsTheIdNormalized) {
  std::string id = make_key("alice.key");
  Output out = keygen({"check-id", id});
  EXPECT_EQ(out.status, ExitStatus::exited(0));
  EXPECT_EQ(out.out, id + "\n");
  EXPECT_EQ(out.err, "");

  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(keygen({"check-id", upper}).out, id + "\n");
}

TEST_F(KeygenTest, CheckIdReportsATypo) {
  std::string id = make_key("alice.key");
  std::string typo = id;
  typo[20] = typo[20] == 'z' ? 'y' : 'z';
  expect_usage_failure(keygen({"check-id", typo}),
                       "bad peer id '" + typo + "': checksum mismatch: a character is mistyped");
}

TEST_F(KeygenTest, CheckIdReportsMalformedIds) {
  std::string id = make_key("alice.key");
  std::string bad_char = id;
  bad_char[9] = '0';
  expect_usage_failure(keygen({"check-id", bad_char}),
                       "bad peer id '" + bad_char +
                           "': bad character '0' at position 10 (peer ids use only a-z and 2-7)");
  expect_usage_failure(
      keygen({"check-id", id.substr(0, 40)}),
      "bad peer id '" + id.substr(0, 40) + "': wrong length: 40 characters, a peer id has 61");
  expect_usage_failure(keygen({"check-id", "xyz"}),
                       "bad peer id 'xyz': not a peer id: it must start with 'vt1'");
}

TEST_F(KeygenTest, HelpAndVersionExitZero) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"show", "--help"}, {"check-id", "--help"}}) {
    Output out = keygen(args);
    EXPECT_EQ(out.status, ExitStatus::exited(0)) << args.front();
    EXPECT_NE(out.out.find("Usage:"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("Example:\n  vt-keygen "), std::string::npos) << out.out;
  }
  Output version = keygen({"--version"});
  EXPECT_EQ(version.status, ExitStatus::exited(0));
  EXPECT_EQ(version.out, "vt-keygen 0.1.0\n");
}

TEST_F(KeygenTest, NoArgumentsPrintsUsageAndExitsTwo) {
  Output out = keygen({});
  EXPECT_EQ(out.status, ExitStatus::exited(2));
  EXPECT_EQ(out.out, "");
  EXPECT_NE(out.err.find("Usage: vt-keygen"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("show"), std::string::npos);
  EXPECT_NE(out.err.find("check-id"), std::string::npos);
}

TEST_F(KeygenTest, UnknownFlagExitsTwo) {
  Output out = keygen({"--nope"});
  EXPECT_EQ(out.status, ExitStatus::exited(2));
  EXPECT_EQ(out.out, "");
  EXPECT_EQ(out.err, "vt-keygen: unexpected argument '--nope' (see vt-keygen --help)\n");
  EXPECT_EQ(keygen({"show", "--nope", path("a.key")}).status, ExitStatus::exited(2));
  EXPECT_EQ(keygen({"show"}).status, ExitStatus::exited(2));
}

TEST_F(KeygenTest, RejectsFlagsThatDoNotGoTogether) {
  expect_usage_failure(keygen({"--force"}), "--force needs -o FILE");
  expect_usage_failure(keygen({"-o", path("a.key"), "show", path("b.key")}),
                       "-o and --force cannot be combined with a subcommand");
  expect_usage_failure(keygen({"--log-level", "debug"}),
                       "nothing to do: give -o FILE or a subcommand (see vt-keygen --help)");
}

TEST_F(KeygenTest, OutputIntoAMissingDirectory) {
  expect_usage_failure(
      keygen({"-o", path("no/such/dir/a.key")}),
      "cannot write key file '" + path("no/such/dir/a.key") + "': no such directory");
}

}  // namespace
}  // namespace peers
