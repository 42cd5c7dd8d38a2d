// peers::idl::Box<T>: an optional value kept on the heap, for optional<> fields
// of a struct that (through other fields) can contain itself.
//
// std::optional<T> stores T inline, so a struct cannot hold an optional of
// itself; generated code uses Box<T> for exactly those fields and
// std::optional everywhere else. Box has value semantics (copies deep-copy,
// == compares values) and the familiar subset of std::optional's interface.
//
//   struct Node { peers::idl::Box<Node> next; ... };
//   n.next = Node{};              // present
//   if (n.next) use(n.next->x);
//   n.next = std::nullopt;        // absent
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace peers::idl {

template <typename T>
class Box {
 public:
  Box() = default;
  Box(std::nullopt_t) {}                                       // NOLINT: like std::optional
  Box(T value) : p_(std::make_unique<T>(std::move(value))) {}  // NOLINT: like std::optional
  Box(const Box& other) : p_(other.p_ ? std::make_unique<T>(*other.p_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& other) {
    if (this != &other) p_ = other.p_ ? std::make_unique<T>(*other.p_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;
  Box& operator=(std::nullopt_t) {
    p_.reset();
    return *this;
  }
  Box& operator=(T value) {
    p_ = std::make_unique<T>(std::move(value));
    return *this;
  }
  ~Box() = default;

  bool has_value() const noexcept { return p_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }

  // Undefined when empty, like std::optional.
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }

  // Throws std::bad_optional_access when empty.
  T& value() {
    if (!p_) throw std::bad_optional_access();
    return *p_;
  }
  const T& value() const {
    if (!p_) throw std::bad_optional_access();
    return *p_;
  }

  template <typename... Args>
  T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() noexcept { p_.reset(); }

  friend bool operator==(const Box& a, const Box& b) {
    if (!a.p_ || !b.p_) return !a.p_ && !b.p_;
    return *a.p_ == *b.p_;
  }
  friend bool operator==(const Box& a, std::nullopt_t) { return !a.p_; }

 private:
  std::unique_ptr<T> p_;
};

}  // namespace peers::idl
