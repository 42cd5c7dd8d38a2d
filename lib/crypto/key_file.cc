#include "lib/crypto/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <system_error>

#include "lib/crypto/init.h"
#include "lib/kernel/log.h"

namespace peers {
namespace {

constexpr std::string_view kHeaderComment = "# VidTorrent identity. Keep this file secret.";
constexpr std::string_view kVersionField = "vt-key";
constexpr std::string_view kPeerIdField = "peer-id";
constexpr std::string_view kSecretField = "secret";
constexpr int kBase64Variant = sodium_base64_VARIANT_ORIGINAL;

Error invalid(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

std::string_view trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// Wipes a string that held secret text when it goes out of scope.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& s) : s_(s) {}
  ~WipeOnExit() { sodium_memzero(s_.data(), s_.size()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& s_;
};

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and returns close()'s errno (0 on success): a failed close can
  // mean written data was lost.
  int close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// "key file 'x': reason" as an Error whose code fits errno and whose
// system_code() is errno.
Error file_error(std::string_view action, const std::string& path, int err) {
  Errc code = Errc::kIo;
  std::string reason;
  if (err == ENOENT) {
    code = Errc::kNotFound;
    reason = action == "read" ? "no such file" : "no such directory";
  } else {
    if (err == EACCES || err == EPERM) code = Errc::kPermissionDenied;
    reason = std::system_category().message(err);
    if (!reason.empty() && reason[0] >= 'A' && reason[0] <= 'Z') reason[0] += 'a' - 'A';
  }
  return Error(code, "cannot " + std::string(action) + " key file '" + path + "': " + reason)
      .set_system_code(std::error_code(err, std::system_category()));
}

// Writes all of data; returns 0 or the errno of the failure.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

// Writes data to a file that fd has just created, makes it durable and closes
// it; returns 0 or the errno of the first failure.
int fill_new_file(Fd& fd, std::string_view data) {
  // open() and mkstemp() already use 0600 or less; this also undoes a umask
  // that took away the owner's bits.
  if (::fchmod(fd.get(), 0600) != 0) return errno;
  if (int err = write_all(fd.get(), data)) return err;
  if (::fsync(fd.get()) != 0) return errno;
  return fd.close();
}

std::string parent_directory(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Makes a new directory entry (a created or renamed file) durable. Best
// effort: some file systems cannot fsync a directory, and the data itself is
// already safe.
void sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// The decoder proper. header_seen is set once the "vt-key: 1" line was read,
// so the caller can tell a truncated key file from a file that is no key.
Result<Identity> decode_lines(std::string_view text, bool& header_seen) {
  std::optional<std::string_view> peer_id_text;
  std::optional<std::string_view> secret_text;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    auto end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line.front() == '#') continue;

    auto colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? line : trim(line.substr(0, colon));
    std::string_view value = colon == std::string_view::npos ? "" : trim(line.substr(colon + 1));
    if (!header_seen) {
      // The version line comes first: it says how to read everything else.
      if (colon == std::string_view::npos || name != kVersionField) {
        return invalid("not a VidTorrent key");
      }
      if (value != std::to_string(kKeyFileVersion)) {
        return invalid("unsupported key file version '" + std::string(value) +
                       "' (this program reads version " + std::to_string(kKeyFileVersion) + ")");
      }
      header_seen = true;
      continue;
    }
    std::string where = "line " + std::to_string(line_number) + ": ";
    if (colon == std::string_view::npos) return invalid(where + "expected 'name: value'");
    std::optional<std::string_view>* slot = nullptr;
    if (name == kPeerIdField) {
      slot = &peer_id_text;
    } else if (name == kSecretField) {
      slot = &secret_text;
    } else if (name == kVersionField) {
      return invalid(where + "duplicate field '" + std::string(name) + "'");
    } else {
      return invalid(where + "unknown field '" + std::string(name) + "'");
    }
    if (slot->has_value()) return invalid(where + "duplicate field '" + std::string(name) + "'");
    *slot = value;
  }
  if (!header_seen) return invalid("not a VidTorrent key");
  if (!peer_id_text) return invalid("missing field '" + std::string(kPeerIdField) + "'");
  if (!secret_text) return invalid("missing field '" + std::string(kSecretField) + "'");

  Result<PeerId> peer_id = PeerId::parse(*peer_id_text);
  if (!peer_id) return invalid("bad peer-id: " + peer_id.error().message());

  init_sodium();
  SecretBytes seed(secret_text->size() / 4 * 3 + 3);
  std::size_t seed_size = 0;
  const char* b64_end = nullptr;
  if (sodium_base642bin(seed.data(), seed.size(), secret_text->data(), secret_text->size(), nullptr,
                        &seed_size, &b64_end, kBase64Variant) != 0 ||
      b64_end != secret_text->data() + secret_text->size()) {
    return invalid("field '" + std::string(kSecretField) + "' is not valid base64");
  }
  Result<Identity> identity = Identity::from_seed(seed.span().first(seed_size));
  if (!identity) return identity;
  if (identity->peer_id() != *peer_id) {
    return invalid("peer-id does not match the secret key: file corrupted");
  }
  return identity;
}

}  // namespace

std::string encode_key_file(const Identity& identity) {
  init_sodium();
  SecretBytes seed = identity.seed();
  SecretBytes b64(sodium_base64_ENCODED_LEN(kSeedSize, kBase64Variant));
  sodium_bin2base64(reinterpret_cast<char*>(b64.data()), b64.size(), seed.data(), seed.size(),
                    kBase64Variant);
  std::string out;
  // One allocation up front, so no reallocation leaves a copy of the secret behind.
  out.reserve(256);
  out += kHeaderComment;
  out += '\n';
  out += std::string(kVersionField) + ": " + std::to_string(kKeyFileVersion) + "\n";
  out += std::string(kPeerIdField) + ": " + identity.peer_id().to_string() + "\n";
  out += kSecretField;
  out += ": ";
  out += reinterpret_cast<const char*>(b64.data());
  out += '\n';
  return out;
}

Result<Identity> decode_key_file(std::string_view text) {
  if (text.size() > kMaxKeyFileSize) {
    return invalid("too large for a key file (" + std::to_string(text.size()) + " bytes)");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return invalid("empty file");
  bool header_seen = false;
  Result<Identity> identity = decode_lines(text, header_seen);
  if (!identity && header_seen && text.back() != '\n') {
    return invalid("truncated file: the last line is incomplete");
  }
  return identity;
}

Result<Identity> load_key_file(const std::string& path, std::vector<std::string>* warnings) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return file_error("read", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return file_error("read", path, errno);
  auto fail = [&](std::string reason) {
    return invalid("cannot read key file '" + path + "': " + reason);
  };
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileSize) {
    return fail("too large for a key file (" + std::to_string(st.st_size) + " bytes)");
  }

  mode_t mode = st.st_mode & 07777;
  if ((mode & 077) != 0 && warnings != nullptr) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    const char* how = (mode & 044) != 0   ? "readable"
                      : (mode & 022) != 0 ? "writable"
                                          : "accessible";
    warnings->push_back("key file '" + path + "' is " + how + " by others (mode " + octal +
                        "); run chmod 600");
  }

  // One byte more than allowed, to notice a file that grew since fstat().
  SecretBytes buffer(kMaxKeyFileSize + 1);
  std::size_t size = 0;
  while (size < buffer.size()) {
    ssize_t n = ::read(fd.get(), buffer.data() + size, buffer.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return file_error("read", path, errno);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  Result<Identity> identity =
      decode_key_file(std::string_view(reinterpret_cast<const char*>(buffer.data()), size));
  if (!identity) return fail(identity.error().message());
  return identity;
}

Result<void> save_key_file(const std::string& path, const Identity& identity, bool overwrite) {
  std::string text = encode_key_file(identity);
  WipeOnExit wipe(text);
  std::string dir = parent_directory(path);

  if (!overwrite) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600));
    if (fd.get() < 0) {
      if (errno == EEXIST) {
        return invalid("key file '" + path + "' already exists")
            .set_system_code(std::error_code(EEXIST, std::system_category()));
      }
      return file_error("write", path, errno);
    }
    if (int err = fill_new_file(fd, text)) {
      // The file is ours (O_EXCL) and incomplete: remove it.
      ::unlink(path.c_str());
      return file_error("write", path, err);
    }
    sync_directory(dir);
    return {};
  }

  std::string temp = path + ".tmp-XXXXXX";
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) return file_error("write", path, errno);
  int err = fill_new_file(fd, text);
  if (err == 0 && ::rename(temp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(temp.c_str());
    return file_error("write", path, err);
  }
  sync_directory(dir);
  return {};
}

Identity load_identity_or_fresh(const std::string& path) {
  if (path.empty()) return Identity::generate();
  std::vector<std::string> warnings;
  auto id = load_key_file(path, &warnings);
  for (const auto& w : warnings) log_warn(w);
  if (!id) throw id.error();
  return std::move(*id);
}

}  // namespace peers
