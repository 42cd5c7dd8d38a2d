#include "lib/crypto/secret_bytes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

// This test binary replaces the global allocation functions so it can look at
// a buffer's bytes at the moment it is freed, which is the only way to see
// that the destructor wiped them without reading freed memory.
namespace {

constexpr std::size_t kMaxWatched = 64;
const void* g_watched = nullptr;
std::uint8_t g_bytes_at_free[kMaxWatched];
std::size_t g_watched_size = 0;
bool g_watched_freed = false;

void watch(const void* p, std::size_t size) {
  g_watched = p;
  g_watched_size = std::min(size, kMaxWatched);
  g_watched_freed = false;
  std::memset(g_bytes_at_free, 0xee, sizeof g_bytes_at_free);
}

void* allocate(std::size_t n) {
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void release(void* p) noexcept {
  if (p != nullptr && p == g_watched) {
    std::memcpy(g_bytes_at_free, p, g_watched_size);
    g_watched_freed = true;
    g_watched = nullptr;
  }
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }

namespace peers {
namespace {

bool all_zero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

SecretBytes filled(std::size_t size, std::uint8_t value) {
  SecretBytes s(size);
  std::memset(s.data(), value, s.size());
  return s;
}

TEST(SecretBytes, DefaultIsEmpty) {
  SecretBytes s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.data(), nullptr);
  s.clear();
  s.reset();
}

TEST(SecretBytes, NewBufferIsZeroFilled) {
  SecretBytes s(48);
  EXPECT_EQ(s.size(), 48u);
  EXPECT_TRUE(all_zero(s.span()));
}

TEST(SecretBytes, ClearZeroesEveryByteAndKeepsTheSize) {
  SecretBytes s = filled(32, 0xa5);
  ASSERT_EQ(s.data()[31], 0xa5);
  const std::uint8_t* before = s.data();
  s.clear();
  EXPECT_EQ(s.size(), 32u);
  EXPECT_EQ(s.data(), before);
  EXPECT_TRUE(all_zero(s.span()));
}

TEST(SecretBytes, ResetWipesBeforeFreeingAndEmpties) {
  SecretBytes s = filled(32, 0x5a);
  watch(s.data(), s.size());
  s.reset();
  EXPECT_TRUE(g_watched_freed);
  EXPECT_TRUE(all_zero({g_bytes_at_free, 32}));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.data(), nullptr);
}

TEST(SecretBytes, DestructorWipesBeforeFreeing) {
  {
    SecretBytes s = filled(64, 0xff);
    watch(s.data(), s.size());
  }
  EXPECT_TRUE(g_watched_freed);
  EXPECT_TRUE(all_zero({g_bytes_at_free, 64}));
}

TEST(SecretBytes, MoveHandsOverTheBufferWithoutCopying) {
  SecretBytes a = filled(16, 7);
  const std::uint8_t* buffer = a.data();
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.data(), buffer);
  EXPECT_EQ(b.size(), 16u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the state is specified
  EXPECT_EQ(a.data(), nullptr);
}

TEST(SecretBytes, MoveAssignmentWipesTheOldBuffer) {
  SecretBytes target = filled(32, 0x11);
  SecretBytes source = filled(8, 0x22);
  watch(target.data(), target.size());
  target = std::move(source);
  EXPECT_TRUE(g_watched_freed);
  EXPECT_TRUE(all_zero({g_bytes_at_free, 32}));
  EXPECT_EQ(target.size(), 8u);
  EXPECT_EQ(target.data()[0], 0x22);
}

TEST(SecretBytes, CloneIsAnIndependentCopy) {
  SecretBytes a = filled(32, 0x33);
  SecretBytes b = a.clone();
  ASSERT_EQ(b.size(), 32u);
  EXPECT_NE(b.data(), a.data());
  EXPECT_TRUE(std::equal(a.span().begin(), a.span().end(), b.span().begin()));
  a.clear();
  EXPECT_EQ(b.data()[0], 0x33);
}

TEST(SecretBytes, CopyOfCopiesTheBytes) {
  const std::uint8_t source[] = {1, 2, 3, 4, 5};
  SecretBytes s = SecretBytes::copy_of(source);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s.data()[0], 1);
  EXPECT_EQ(s.data()[4], 5);
  EXPECT_TRUE(SecretBytes::copy_of({}).empty());
}

TEST(Wipe, ZerosAStringAndKeepsItsSize) {
  std::string text = "secret key text";
  wipe(text);
  EXPECT_EQ(text, std::string(15, '\0'));
  std::string empty;
  wipe(empty);
  EXPECT_TRUE(empty.empty());
}

TEST(Wipe, ZerosBytes) {
  std::byte bytes[4] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  wipe(bytes);
  for (std::byte b : bytes) EXPECT_EQ(b, std::byte{0});
}

}  // namespace
}  // namespace peers
