// The bytes a connection has received and not yet handled. Not for other
// components.
//
// It grows with the data that actually arrives, never with what a peer
// declares: a record header that announces 1 MiB makes the buffer grow only as
// the bytes come in, doubling from kInitial each time it is full (so it holds
// at most twice what was received, plus kInitial). Memory is not zero-filled,
// so pages a peer never writes are never touched. A buffer grown for large
// records goes back to kInitial once it is empty and no large record has been
// needed for kShrinkAfter: a bulk stream keeps its buffer, a connection that
// saw one large record and then only pings does not.
//
//   ReadBuffer in;
//   auto room = in.prepare(4 + len, now);   // where the next read_some goes
//   in.commit(n);                           // n bytes arrived
//   if (in.size() >= 4 + len) { use(in.data()); in.consume(4 + len); }
//
// One thread at a time (the connection's strand).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace peers::rpc::internal {

class ReadBuffer {
 public:
  using Clock = std::chrono::steady_clock;
  // What an idle connection holds: a few small records, PINGs, calls.
  static constexpr std::size_t kInitial = 8 * 1024;
  static constexpr Clock::duration kShrinkAfter = std::chrono::seconds(1);

  // Bytes received and not yet consumed, at data().
  std::size_t size() const { return end_ - begin_; }
  char* data() { return buf_.get() + begin_; }
  std::size_t capacity() const { return capacity_; }

  // Room for the next read, on the way to holding `need` bytes in all.
  // Moves waiting bytes to the front, grows a full buffer (doubling, at most
  // to `need`, at least to kInitial), or shrinks an empty one (see above).
  // Invalidates data() and views into it.
  std::span<char> prepare(std::size_t need, Clock::time_point now) {
    if (need > kInitial) last_large_ = now;
    if (size() == 0) {
      begin_ = end_ = 0;
      if (capacity_ > kInitial && need <= kInitial && now - last_large_ >= kShrinkAfter) {
        reallocate(kInitial);
      }
    }
    if (end_ == capacity_ || capacity_ - begin_ < need) compact();
    if (end_ == capacity_ && size() < need) {
      reallocate(std::max(kInitial, std::min(need, 2 * capacity_)));
    } else if (capacity_ == 0) {
      reallocate(kInitial);
    }
    return {buf_.get() + end_, capacity_ - end_};
  }
  // `n` bytes were written at the start of the last prepare()'s room.
  void commit(std::size_t n) { end_ += n; }
  // Drops the first `n` waiting bytes. Their memory stays valid (for views
  // the caller still holds) until the next prepare().
  void consume(std::size_t n) { begin_ += n; }

 private:
  void compact() {
    if (begin_ == 0) return;
    std::memmove(buf_.get(), buf_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  void reallocate(std::size_t capacity) {
    // new char[] leaves the bytes uninitialized on purpose (see above).
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (size() > 0) std::memcpy(bigger.get(), buf_.get() + begin_, size());
    end_ = size();
    begin_ = 0;
    buf_ = std::move(bigger);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> buf_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0, end_ = 0;
  Clock::time_point last_large_{};
};

}  // namespace peers::rpc::internal
