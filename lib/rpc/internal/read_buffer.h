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
// Read-ahead: once the peer has proved who it is (set_read_ahead(), never for
// strangers), a read that filled all the room it was given shows more waiting
// in the socket, and the buffer doubles, up to the read-ahead, so that a bulk
// stream is read many records per system call, not one or two pieces of a
// record per call (that cost a data channel two thirds of its throughput).
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

  // The most the buffer grows to for reads that fill it (see above); 0, the
  // default, reads no further than the record at hand.
  void set_read_ahead(std::size_t bytes) { read_ahead_ = bytes; }

  // Room for the next read, on the way to holding `need` bytes in all.
  // Moves waiting bytes to the front, grows a full buffer (doubling, at most
  // to `need`, at least to kInitial) or one the last read filled (doubling,
  // up to the read-ahead), or shrinks an empty one (see above).
  // Invalidates data() and views into it.
  std::span<char> prepare(std::size_t need, Clock::time_point now) {
    if (need > kInitial) last_large_ = now;
    std::size_t ahead = 0;
    if (filled_ && capacity_ < read_ahead_) {
      ahead = std::min(read_ahead_, 2 * capacity_);
      last_large_ = now;
    }
    filled_ = false;
    if (size() == 0) {
      begin_ = end_ = 0;
      if (capacity_ > kInitial && need <= kInitial && now - last_large_ >= kShrinkAfter) {
        reallocate(kInitial);
      }
    }
    if (end_ == capacity_ || capacity_ - begin_ < need) compact();
    if (end_ == capacity_ && size() < need) {
      reallocate(std::max({kInitial, std::min(need, 2 * capacity_), ahead}));
    } else if (capacity_ == 0) {
      reallocate(kInitial);
    } else if (ahead > capacity_) {
      reallocate(ahead);
    }
    room_ = capacity_ - end_;
    return {buf_.get() + end_, room_};
  }
  // `n` bytes were written at the start of the last prepare()'s room.
  void commit(std::size_t n) {
    end_ += n;
    filled_ = n > 0 && n == room_;
  }
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
  std::size_t room_ = 0;  // the size of the last prepare()'s room
  std::size_t read_ahead_ = 0;
  bool filled_ = false;  // the last commit() filled all of that room
  Clock::time_point last_large_{};
};

}  // namespace peers::rpc::internal
