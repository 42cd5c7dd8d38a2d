#include "lib/crypto/key_file.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace peers {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// A fixed identity, so expected texts can be written out in full.
Identity fixed_identity() {
  std::uint8_t seed[kSeedSize];
  for (std::size_t i = 0; i < kSeedSize; ++i) seed[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return Identity::from_seed(seed).value();
}

std::string fixed_text() { return encode_key_file(fixed_identity()); }

// The key file text with the line that starts with prefix replaced.
std::string replace_line(std::string text, std::string_view prefix, std::string_view line) {
  auto start = text.find(prefix);
  EXPECT_NE(start, std::string::npos) << prefix;
  auto end = text.find('\n', start);
  return text.replace(start, end - start, line);
}

std::string secret_of(const std::string& text) {
  auto start = text.find("secret: ") + 8;
  return text.substr(start, text.find('\n', start) - start);
}

std::string decode_error(std::string_view text) {
  Result<Identity> id = decode_key_file(text);
  if (id) return "decoded";
  EXPECT_EQ(id.error().code(), Errc::kInvalidArgument);
  return id.error().message();
}

// A fresh directory under $TEST_TMPDIR for one test.
std::string make_temp_dir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/key_file_test.XXXXXX";
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

mode_t file_mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, std::string_view text, mode_t mode) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

int count_entries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) {
    if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") ++n;
  }
  ::closedir(d);
  return n;
}

// ---- encoding and decoding ----

TEST(KeyFile, EncodesTheDocumentedLayout) {
  Identity id = fixed_identity();
  std::string text = encode_key_file(id);
  SecretBytes seed = id.seed();
  char b64[sodium_base64_ENCODED_LEN(kSeedSize, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(b64, sizeof b64, seed.data(), seed.size(), sodium_base64_VARIANT_ORIGINAL);
  EXPECT_EQ(text,
            "# VidTorrent identity. Keep this file secret.\n"
            "vt-key: 1\n"
            "peer-id: " +
                id.peer_id().to_string() + "\nsecret: " + b64 + "\n");
  EXPECT_EQ(secret_of(text).size(), 44u);
  EXPECT_EQ(secret_of(text).back(), '=');
}

TEST(KeyFile, RoundTrips) {
  for (int i = 0; i < 20; ++i) {
    Identity id = Identity::generate();
    Result<Identity> back = decode_key_file(encode_key_file(id));
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_EQ(back->public_key(), id.public_key());
    EXPECT_EQ(back->sign("m"), id.sign("m"));
  }
}

TEST(KeyFile, AcceptsCommentsBlankLinesSpacesAndCrlf) {
  Identity id = fixed_identity();
  std::string text = "\n# made by hand\r\n\r\n  vt-key:1  \r\n\t# a comment\r\npeer-id:   " +
                     id.peer_id().to_string() + "\r\n\r\nsecret:" + secret_of(fixed_text()) +
                     "\t\r\n";
  Result<Identity> back = decode_key_file(text);
  ASSERT_TRUE(back.ok()) << back.error().what();
  EXPECT_EQ(back->public_key(), id.public_key());
}

TEST(KeyFile, AcceptsFieldsInEitherOrderAndAMissingFinalNewline) {
  Identity id = fixed_identity();
  std::string text =
      "vt-key: 1\nsecret: " + secret_of(fixed_text()) + "\npeer-id: " + id.peer_id().to_string();
  Result<Identity> back = decode_key_file(text);
  ASSERT_TRUE(back.ok()) << back.error().what();
  EXPECT_EQ(back->public_key(), id.public_key());
}

TEST(KeyFile, RejectsEmptyFile) {
  EXPECT_EQ(decode_error(""), "empty file");
  EXPECT_EQ(decode_error("\n\n  \r\n\t\n"), "empty file");
}

TEST(KeyFile, RejectsTooLargeFile) {
  std::string text = fixed_text() + std::string(kMaxKeyFileSize, '#');
  EXPECT_EQ(decode_error(text),
            "too large for a key file (" + std::to_string(text.size()) + " bytes)");
}

TEST(KeyFile, RejectsTextThatIsNotAKey) {
  EXPECT_EQ(decode_error("hello world\n"), "not a VidTorrent key");
  EXPECT_EQ(decode_error("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"),
            "not a VidTorrent key");
  EXPECT_EQ(decode_error(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)), "not a VidTorrent key");
  EXPECT_EQ(decode_error("# only a comment\n"), "not a VidTorrent key");
  // A key file starts with its version line.
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "vt-key:", "")), "not a VidTorrent key");
}

TEST(KeyFile, RejectsUnsupportedVersion) {
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "vt-key:", "vt-key: 2")),
            "unsupported key file version '2' (this program reads version 1)");
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "vt-key:", "vt-key: one")),
            "unsupported key file version 'one' (this program reads version 1)");
}

TEST(KeyFile, RejectsMissingPeerId) {
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "peer-id:", "")), "missing field 'peer-id'");
}

TEST(KeyFile, RejectsMissingSecret) {
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "secret:", "")), "missing field 'secret'");
}

TEST(KeyFile, RejectsDuplicateSecret) {
  std::string text = fixed_text();
  text += "secret: " + secret_of(text) + "\n";
  EXPECT_EQ(decode_error(text), "line 5: duplicate field 'secret'");
}

TEST(KeyFile, RejectsDuplicatePeerId) {
  std::string text = fixed_text();
  text += "peer-id: " + fixed_identity().peer_id().to_string() + "\n";
  EXPECT_EQ(decode_error(text), "line 5: duplicate field 'peer-id'");
}

TEST(KeyFile, RejectsDuplicateVersion) {
  EXPECT_EQ(decode_error(fixed_text() + "vt-key: 1\n"), "line 5: duplicate field 'vt-key'");
}

TEST(KeyFile, RejectsUnknownField) {
  std::string text = fixed_text();
  text = replace_line(text, "secret:", "secrat: " + secret_of(text));
  EXPECT_EQ(decode_error(text), "line 4: unknown field 'secrat'");
}

TEST(KeyFile, RejectsLineWithoutColon) {
  std::string text = fixed_text();
  text = replace_line(text, "secret:", "secret " + secret_of(text));
  EXPECT_EQ(decode_error(text), "line 4: expected 'name: value'");
}

TEST(KeyFile, RejectsBadBase64Character) {
  std::string text = fixed_text();
  std::string secret = secret_of(text);
  secret[10] = '*';
  EXPECT_EQ(decode_error(replace_line(text, "secret:", "secret: " + secret)),
            "field 'secret' is not valid base64");
}

TEST(KeyFile, RejectsBase64WithoutPadding) {
  std::string text = fixed_text();
  std::string secret = secret_of(text);
  secret.pop_back();  // the '='
  EXPECT_EQ(decode_error(replace_line(text, "secret:", "secret: " + secret)),
            "field 'secret' is not valid base64");
}

TEST(KeyFile, RejectsUrlSafeBase64) {
  std::string text = fixed_text();
  std::string secret = secret_of(text);
  secret[0] = '-';
  EXPECT_EQ(decode_error(replace_line(text, "secret:", "secret: " + secret)),
            "field 'secret' is not valid base64");
}

TEST(KeyFile, RejectsWrongSeedLength) {
  std::uint8_t bytes[31] = {};
  char b64[sodium_base64_ENCODED_LEN(31, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(b64, sizeof b64, bytes, sizeof bytes, sodium_base64_VARIANT_ORIGINAL);
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "secret:", std::string("secret: ") + b64)),
            "secret key has 31 bytes, expected 32");
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "secret:", "secret:")),
            "secret key has 0 bytes, expected 32");
}

TEST(KeyFile, RejectsFileTruncatedInsideTheSecret) {
  std::string text = fixed_text();
  for (std::size_t cut = text.find("secret:") + 1; cut < text.size() - 1; ++cut) {
    EXPECT_EQ(decode_error(text.substr(0, cut)), "truncated file: the last line is incomplete")
        << cut;
  }
}

TEST(KeyFile, RejectsFileTruncatedInsideThePeerId) {
  std::string text = fixed_text();
  text = text.substr(0, text.find("peer-id:") + 30);
  EXPECT_EQ(decode_error(text), "truncated file: the last line is incomplete");
}

TEST(KeyFile, RejectsFileTruncatedAtALineEnd) {
  std::string text = fixed_text();
  EXPECT_EQ(decode_error(text.substr(0, text.find("secret:"))), "missing field 'secret'");
}

TEST(KeyFile, RejectsPeerIdOfAnotherKey) {
  std::string text = replace_line(
      fixed_text(), "peer-id:", "peer-id: " + Identity::generate().peer_id().to_string());
  EXPECT_EQ(decode_error(text), "peer-id does not match the secret key: file corrupted");
}

TEST(KeyFile, RejectsMistypedPeerId) {
  std::string id = fixed_identity().peer_id().to_string();
  id[20] = id[20] == 'a' ? 'b' : 'a';
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "peer-id:", "peer-id: " + id)),
            "bad peer-id: checksum mismatch: a character is mistyped");
  EXPECT_EQ(decode_error(replace_line(fixed_text(), "peer-id:", "peer-id: vt1abc")),
            "bad peer-id: wrong length: 6 characters, a peer id has 61");
}

TEST(KeyFile, RejectsSecretWithAFlippedCharacter) {
  std::string text = fixed_text();
  std::string secret = secret_of(text);
  ASSERT_EQ(secret.size(), 44u);
  // Every substitution of every base64 character: each is either invalid
  // base64 (the last character's unused bits must be zero) or a different
  // seed, whose key does not match the peer-id line.
  for (std::size_t pos = 0; pos < 43; ++pos) {
    for (char c : kBase64Alphabet) {
      if (c == secret[pos]) continue;
      std::string corrupt = secret;
      corrupt[pos] = c;
      std::string error = decode_error(replace_line(text, "secret:", "secret: " + corrupt));
      EXPECT_TRUE(error == "peer-id does not match the secret key: file corrupted" ||
                  error == "field 'secret' is not valid base64")
          << pos << " " << c << ": " << error;
    }
  }
  std::string corrupt = secret;
  corrupt[5] = secret[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(decode_error(replace_line(text, "secret:", "secret: " + corrupt)),
            "peer-id does not match the secret key: file corrupted");
}

// ---- files ----

TEST(KeyFile, SaveCreatesAFileWithMode0600) {
  std::string dir = make_temp_dir();
  mode_t old_umask = ::umask(0);  // even when the umask would allow more
  Result<void> saved = save_key_file(dir + "/a.key", fixed_identity(), false);
  ::umask(old_umask);
  ASSERT_TRUE(saved.ok()) << saved.error().what();
  EXPECT_EQ(file_mode(dir + "/a.key"), 0600u);
  EXPECT_EQ(read_file(dir + "/a.key"), fixed_text());
}

TEST(KeyFile, SaveThenLoadRoundTripsWithoutWarnings) {
  std::string dir = make_temp_dir();
  Identity id = Identity::generate();
  ASSERT_TRUE(save_key_file(dir + "/a.key", id, false).ok());
  std::vector<std::string> warnings;
  Result<Identity> back = load_key_file(dir + "/a.key", &warnings);
  ASSERT_TRUE(back.ok()) << back.error().what();
  EXPECT_EQ(back->public_key(), id.public_key());
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(load_key_file(dir + "/a.key", nullptr).ok());
}

TEST(KeyFile, SaveRefusesToReplaceAnExistingFile) {
  std::string dir = make_temp_dir();
  std::string path = dir + "/a.key";
  ASSERT_TRUE(save_key_file(path, fixed_identity(), false).ok());
  Result<void> again = save_key_file(path, Identity::generate(), false);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(again.error().message(), "key file '" + path + "' already exists");
  EXPECT_EQ(again.error().system_code(), std::errc::file_exists);
  EXPECT_EQ(read_file(path), fixed_text());
}

TEST(KeyFile, SaveWithOverwriteReplacesTheFile) {
  std::string dir = make_temp_dir();
  std::string path = dir + "/a.key";
  write_file(path, "old contents\n", 0644);
  ASSERT_TRUE(save_key_file(path, fixed_identity(), true).ok());
  EXPECT_EQ(read_file(path), fixed_text());
  EXPECT_EQ(file_mode(path), 0600u);
  EXPECT_EQ(count_entries(dir), 1);  // no temporary file left behind
}

TEST(KeyFile, SaveWithOverwriteCreatesAMissingFile) {
  std::string dir = make_temp_dir();
  ASSERT_TRUE(save_key_file(dir + "/new.key", fixed_identity(), true).ok());
  EXPECT_EQ(read_file(dir + "/new.key"), fixed_text());
  EXPECT_EQ(file_mode(dir + "/new.key"), 0600u);
}

TEST(KeyFile, SaveIntoMissingDirectoryFails) {
  std::string path = make_temp_dir() + "/no/such/dir/a.key";
  for (bool overwrite : {false, true}) {
    Result<void> saved = save_key_file(path, fixed_identity(), overwrite);
    ASSERT_FALSE(saved.ok());
    EXPECT_EQ(saved.error().code(), Errc::kNotFound);
    EXPECT_EQ(saved.error().message(), "cannot write key file '" + path + "': no such directory");
    EXPECT_EQ(saved.error().system_code(), std::errc::no_such_file_or_directory);
  }
}

TEST(KeyFile, SaveOverADirectoryFails) {
  std::string dir = make_temp_dir();
  ASSERT_EQ(::mkdir((dir + "/d").c_str(), 0700), 0);
  Result<void> saved = save_key_file(dir + "/d", fixed_identity(), true);
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code(), Errc::kIo);
  EXPECT_EQ(saved.error().message(), "cannot write key file '" + dir + "/d': is a directory");
  EXPECT_EQ(saved.error().system_code(), std::errc::is_a_directory);
  EXPECT_EQ(count_entries(dir), 1);  // the temporary file was removed
}

TEST(KeyFile, LoadMissingFileIsNotFound) {
  std::string path = make_temp_dir() + "/missing.key";
  Result<Identity> id = load_key_file(path, nullptr);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Errc::kNotFound);
  EXPECT_EQ(id.error().message(), "cannot read key file '" + path + "': no such file");
  EXPECT_EQ(id.error().system_code(), std::errc::no_such_file_or_directory);
}

TEST(KeyFile, LoadWarnsWhenOthersCanRead) {
  std::string dir = make_temp_dir();
  std::string path = dir + "/a.key";
  write_file(path, fixed_text(), 0644);
  std::vector<std::string> warnings;
  Result<Identity> id = load_key_file(path, &warnings);
  ASSERT_TRUE(id.ok()) << id.error().what();
  EXPECT_EQ(id->public_key(), fixed_identity().public_key());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "key file '" + path + "' is readable by others (mode 0644); run chmod 600");
}

TEST(KeyFile, LoadWarnsWhenTheGroupCanReadOrWrite) {
  std::string dir = make_temp_dir();
  std::string path = dir + "/a.key";
  write_file(path, fixed_text(), 0640);
  std::vector<std::string> warnings;
  ASSERT_TRUE(load_key_file(path, &warnings).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "key file '" + path + "' is readable by others (mode 0640); run chmod 600");

  write_file(path, fixed_text(), 0620);
  warnings.clear();
  ASSERT_TRUE(load_key_file(path, &warnings).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "key file '" + path + "' is writable by others (mode 0620); run chmod 600");
}

TEST(KeyFile, LoadDoesNotWarnForOwnerOnlyModes) {
  std::string dir = make_temp_dir();
  for (mode_t mode : {0600, 0400, 0700}) {
    write_file(dir + "/a.key", fixed_text(), mode);
    std::vector<std::string> warnings;
    ASSERT_TRUE(load_key_file(dir + "/a.key", &warnings).ok());
    EXPECT_TRUE(warnings.empty()) << std::oct << mode;
  }
}

TEST(KeyFile, LoadNamesTheFileInContentErrors) {
  std::string path = make_temp_dir() + "/a.key";
  write_file(path, "hello\n", 0600);
  Result<Identity> id = load_key_file(path, nullptr);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(id.error().message(), "cannot read key file '" + path + "': not a VidTorrent key");

  write_file(path, "", 0600);
  EXPECT_EQ(load_key_file(path, nullptr).error().message(),
            "cannot read key file '" + path + "': empty file");
}

TEST(KeyFile, LoadRejectsTooLargeFile) {
  std::string path = make_temp_dir() + "/big.key";
  write_file(path, std::string(kMaxKeyFileSize + 1, '#'), 0600);
  EXPECT_EQ(load_key_file(path, nullptr).error().message(),
            "cannot read key file '" + path + "': too large for a key file (65537 bytes)");
}

TEST(KeyFile, LoadRefusesDirectoriesAndFifosWithoutBlocking) {
  std::string dir = make_temp_dir();
  EXPECT_EQ(load_key_file(dir, nullptr).error().message(),
            "cannot read key file '" + dir + "': not a regular file");
  std::string fifo = dir + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(load_key_file(fifo, nullptr).error().message(),
            "cannot read key file '" + fifo + "': not a regular file");
}

TEST(KeyFile, LoadUnreadableFileIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  std::string path = make_temp_dir() + "/a.key";
  write_file(path, fixed_text(), 0000);
  Result<Identity> id = load_key_file(path, nullptr);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Errc::kPermissionDenied);
  EXPECT_EQ(id.error().message(), "cannot read key file '" + path + "': permission denied");
}

}  // namespace
}  // namespace peers
