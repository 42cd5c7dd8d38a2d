// SecretBytes: a heap buffer for secret key material, wiped when released.
//
// The bytes live in one heap allocation that never moves: moving a
// SecretBytes hands over the pointer, so no stray copy of the secret is left
// behind in freed or reused memory. The destructor (and reset()) overwrite the
// bytes with zeros (sodium_memzero, which the compiler cannot optimize away)
// before freeing them. Copies are explicit, with clone().
//
// The buffer is not locked in RAM (no mlock): a secret can reach swap.
//
// wipe() overwrites secret bytes held elsewhere (a key file's text in a
// std::string) the same way, for code outside lib/crypto, which is the only
// place that may call libsodium.
//
//   peers::SecretBytes seed(32);
//   randombytes_buf(seed.data(), seed.size());
//   use(seed.span());
//   // wiped and freed here
//
//   std::string text = peers::encode_key_file(identity);
//   write(text);
//   peers::wipe(text);  // zeros, still text.size() long
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace peers {

// Overwrites every byte with zero in a way the compiler cannot optimize away
// (sodium_memzero). The size stays the same.
void wipe(std::span<std::byte> bytes) noexcept;
void wipe(std::string& text) noexcept;

class SecretBytes {
 public:
  // An empty buffer (size 0, data() == nullptr).
  SecretBytes() noexcept = default;
  // A buffer of size zero bytes.
  explicit SecretBytes(std::size_t size);
  // A buffer holding a copy of bytes. The caller still owns (and wipes) the source.
  static SecretBytes copy_of(std::span<const std::uint8_t> bytes);

  ~SecretBytes() { reset(); }

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // An independent copy, wiped on its own.
  SecretBytes clone() const;

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::span<std::uint8_t> span() noexcept { return {data_, size_}; }
  std::span<const std::uint8_t> span() const noexcept { return {data_, size_}; }

  // Overwrites every byte with zero; the size stays the same.
  void clear() noexcept;
  // Wipes and frees the buffer; afterwards the buffer is empty.
  void reset() noexcept;

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace peers
