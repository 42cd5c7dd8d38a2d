// Key files: an Identity stored as a small text file (docs/keyfile.md).
//
//   # VidTorrent identity. Keep this file secret.
//   vt-key: 1
//   peer-id: vt1...
//   secret: <base64 of the 32-byte seed>
//
// A key file is untrusted input: decode_key_file() never throws and names the
// first thing that is wrong. The peer-id line is redundant on purpose: it lets
// people see whose key a file holds, and decoding checks it against the
// secret, which catches corruption of either line.
//
// Errors are peers::Error with code kInvalidArgument for bad content (and for
// refusing to replace an existing file), kNotFound for a missing file or
// directory, kPermissionDenied when the system refuses access, kIo for other
// I/O failures; a failure of the system also keeps its errno as system_code()
// (ENOENT, EACCES, EEXIST, ...). Messages of load/save name the file:
//   "cannot read key file 'alice.key': not a VidTorrent key"
//
//   std::vector<std::string> warnings;
//   peers::Result<peers::Identity> me = peers::load_key_file("alice.key", &warnings);
//   for (const auto& w : warnings) peers::log_warn(w);
//   if (!me) return fail(me.error());
//   peers::save_key_file("copy.key", *me, /*overwrite=*/false).value();
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/kernel/error.h"

namespace peers {

// The only key file version this code reads and writes.
inline constexpr int kKeyFileVersion = 1;
// Longer input is rejected before it is parsed (a key file is ~150 bytes).
inline constexpr std::size_t kMaxKeyFileSize = 64 * 1024;

// The key file text of identity, ending with a newline. The text holds the
// secret: the caller wipes it (sodium_memzero) when done.
std::string encode_key_file(const Identity& identity);

// Reads key file text. Blank lines and lines starting with '#' are ignored;
// "\r\n" line ends are accepted. Errors (kInvalidArgument), for example:
//   "empty file"
//   "too large for a key file (70000 bytes)"
//   "not a VidTorrent key"
//   "unsupported key file version '2' (this program reads version 1)"
//   "line 4: expected 'name: value'"
//   "line 4: unknown field 'secrat'"
//   "line 5: duplicate field 'secret'"
//   "missing field 'peer-id'" / "missing field 'secret'"
//   "bad peer-id: checksum mismatch: a character is mistyped"
//   "field 'secret' is not valid base64"
//   "secret key has 31 bytes, expected 32"
//   "truncated file: the last line is incomplete"
//   "peer-id does not match the secret key: file corrupted"
// A file whose last line has no newline and that fails to decode after its
// version line is reported as truncated, the likely cause.
Result<Identity> decode_key_file(std::string_view text);

// Reads and decodes the key file at path. When the file's permissions let
// group or others in, appends a warning such as
//   "key file 'alice.key' is readable by others (mode 0644); run chmod 600"
// to *warnings (if not null) and still loads the key. Never blocks on a FIFO:
// anything but a regular file is refused.
Result<Identity> load_key_file(const std::string& path, std::vector<std::string>* warnings);

// Writes identity as a key file with mode 0600. Without overwrite, creates the
// file (O_CREAT | O_EXCL) and fails with "key file 'x' already exists" if
// anything is at path. With overwrite, writes a temporary file in the same
// directory, then renames it over path, so readers see the old file or the
// new one, never a partial one. Data is fsync'ed before success is returned.
Result<void> save_key_file(const std::string& path, const Identity& identity, bool overwrite);

// The identity a tool runs as: the key file at path when path is not empty
// (its warnings are logged; a bad file throws the Error), otherwise a fresh
// identity that lives as long as the process.
Identity load_identity_or_fresh(const std::string& path);

}  // namespace peers
