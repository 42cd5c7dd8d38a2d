#include "lib/crypto/secret_bytes.h"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace peers {

void wipe(std::span<std::byte> bytes) noexcept {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

void wipe(std::string& text) noexcept {
  if (!text.empty()) sodium_memzero(text.data(), text.size());
}

SecretBytes::SecretBytes(std::size_t size)
    : data_(size ? new std::uint8_t[size]() : nullptr), size_(size) {}

SecretBytes SecretBytes::copy_of(std::span<const std::uint8_t> bytes) {
  SecretBytes out(bytes.size());
  if (!bytes.empty()) std::memcpy(out.data_, bytes.data(), bytes.size());
  return out;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes SecretBytes::clone() const { return copy_of(span()); }

void SecretBytes::clear() noexcept {
  if (data_ != nullptr) sodium_memzero(data_, size_);
}

void SecretBytes::reset() noexcept {
  clear();
  delete[] data_;
  data_ = nullptr;
  size_ = 0;
}

}  // namespace peers
