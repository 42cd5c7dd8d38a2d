// PlayoutBuffer: a sink puts the chunks of all stripes back in order.
//
// Chunks arrive from K stripe trees in any order, some twice (a new parent
// resends from its history), some never. The buffer holds them and releases
// them strictly in seq order. When the next chunk is missing, it waits; once
// the hole has been known for `buffer` (the playout delay), it gives up on it:
// it skips every missing chunk up to the next one it holds, counts a gap, and
// goes on. So a sink plays whole chunks only, never a torn one, and a sink
// whose buffer is longer than tree recovery loses nothing.
//
// When is a chunk "known missing"? When a later chunk has arrived: the hole
// in front of the lowest held chunk has been known since the earliest arrival
// among the chunks held. The skip is due at exactly that time + buffer
// (inclusive). A stream that stalls altogether is not skipped: there is
// nothing to skip to.
//
// Late is not lost. When the buffer knows the stream's stripes (`stripes` >
// 0; chunk seq mod K is its stripe, and each stripe's parent sends in seq
// order), a missing chunk whose stripe has delivered a later chunk is lost:
// it is skipped after `buffer`, as above. One whose stripe has not reached it
// yet is late (the stripe lags, or repairs and will resend from where it
// stopped): it is waited for up to `late_limit` instead, so a viewer plays a
// little further behind for a while rather than losing a quarter of the
// stream. Holes are skipped one seq at a time, so a lost chunk of one stripe
// never takes a late one of another with it.
//
// Where playing starts (StartPolicy):
//   kRandomAccess (default): at the first chunk inserted whose random_access
//     flag is set, so a late joiner begins decoding cleanly; if
//     rap_search_chunks chunks arrive without one (a stream without
//     random-access points), or the end-of-stream chunk arrives, at the lowest
//     chunk held. Chunks held below the start point are dropped.
//   kFirstChunk: at the first chunk inserted.
//   kAtSeq: at start_seq (a sink that knows where it joined, e.g. 0).
//
// Bounded: at most `window` chunks are held; a chunk window or more seqs
// ahead of the play point (or, before playing starts, of the lowest chunk
// held) is refused (kTooFarAhead). Memory is thus at most window chunks of
// at most kMaxChunkPayload bytes each (verify_chunk enforces the size).
//
// The end-of-stream chunk is released like any other (empty payload); once it
// is, finished() is true and every later insert is kTooOld.
//
// No clock is read: every call takes `now`. Not thread-safe.
//
//   auto buffer = vt::PlayoutBuffer::create({.buffer = 2s}).value();
//   buffer.insert(std::move(chunk), now);
//   for (vt::Chunk& c : buffer.pop_ready(now)) write_stdout(c.payload);
//   // and call pop_ready() again at buffer.next_deadline()
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "lib/kernel/error.h"
#include "lib/stream/chunk.h"

namespace vt {

enum class StartPolicy { kRandomAccess, kFirstChunk, kAtSeq };

struct PlayoutOptions {
  // How long a known hole is waited for before it is skipped. > 0.
  std::chrono::microseconds buffer = std::chrono::seconds(2);
  // Most chunks held, and how far ahead of the play point a chunk may be. >= 1.
  std::uint64_t window = 1024;
  StartPolicy start = StartPolicy::kRandomAccess;
  // kRandomAccess: chunks to wait for a random-access point, 1..window.
  std::uint64_t rap_search_chunks = 256;
  // kAtSeq: the first seq to play.
  ChunkSeq start_seq = 0;
  // The stream's stripes K (seq mod K = stripe); 0 = unknown: every hole
  // counts as lost.
  std::uint32_t stripes = 0;
  // How long a late chunk (its stripe has not passed it) is waited for.
  // >= buffer.
  std::chrono::microseconds late_limit = std::chrono::seconds(8);
};

enum class InsertResult {
  kAccepted,
  kDuplicate,    // that seq is already held
  kTooOld,       // before the play point: played, skipped, or before the start
  kTooFarAhead,  // outside the window; the sender is too far ahead (or lying)
  kAfterEnd,     // after the end-of-stream chunk
};

std::string_view to_string(InsertResult result);

struct PlayoutStats {
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t too_old = 0;  // late (after their skip) or replayed chunks
  std::uint64_t too_far_ahead = 0;
  std::uint64_t after_end = 0;
  std::uint64_t dropped_before_start = 0;  // held, then below the chosen start point
  std::uint64_t gaps = 0;                  // holes skipped (runs of missing chunks)
  std::uint64_t skipped_chunks = 0;        // chunks in those holes
  std::uint64_t late_skipped = 0;          // of those: their stripe never got there
  std::uint64_t released_chunks = 0;       // including the end-of-stream chunk
  std::uint64_t released_bytes = 0;
};

class PlayoutBuffer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Fails with kInvalidArgument, naming the option, when options are out of
  // range.
  static peers::Result<PlayoutBuffer> create(const PlayoutOptions& options);

  // Offers a chunk that arrived at now (already verified). The buffer keeps
  // it only when the result is kAccepted.
  InsertResult insert(Chunk chunk, TimePoint now);

  // Releases, in seq order, every chunk that can be played at now: the held
  // chunks from the play point on, and past every hole whose deadline is at
  // or before now.
  std::vector<Chunk> pop_ready(TimePoint now);

  // The stream is over and nothing more will come (its end-of-stream chunk
  // was lost with a stripe that could not be repaired): releases every held
  // chunk in seq order, skipping (and counting) the holes between them, and
  // finishes. Nothing is waited for.
  std::vector<Chunk> flush();

  // Seqs in [from, to) are on their way after all (a fill from another node
  // once the stripe's new parent began past them): a hole there is late,
  // waited for up to the late limit, not lost, until forget_expected(from).
  void expect(ChunkSeq from, ChunkSeq to);
  void forget_expected(ChunkSeq from);

  // When pop_ready() will skip the current hole; nullopt when there is no
  // hole (nothing held, or the next chunk is here and pop_ready() releases it
  // at once).
  std::optional<TimePoint> next_deadline() const;

  bool started() const { return started_; }
  // The next seq to play; nullopt before playing starts.
  std::optional<ChunkSeq> next_seq() const;
  bool finished() const { return finished_; }
  std::size_t held_chunks() const { return held_.size(); }
  std::size_t held_bytes() const { return held_bytes_; }
  const PlayoutStats& stats() const { return stats_; }

 private:
  struct Held {
    Chunk chunk;
    TimePoint arrival;
  };

  explicit PlayoutBuffer(const PlayoutOptions& options) : options_(options) {}
  InsertResult insert_before_start(Chunk chunk, TimePoint now);
  void start_at(ChunkSeq seq);
  void hold(Chunk chunk, TimePoint now);
  void drop(std::map<ChunkSeq, Held>::iterator it);
  // Plays the held chunk at next_ (it): out gets it, next_ moves on.
  void release(std::map<ChunkSeq, Held>::iterator it, std::vector<Chunk>& out);
  void note_progress(const Chunk& chunk);
  // The current hole at next_ is lost (its stripe went past it), not late.
  bool hole_is_lost() const;

  PlayoutOptions options_;
  bool started_ = false;
  bool finished_ = false;
  ChunkSeq next_ = 0;
  std::optional<ChunkSeq> end_seq_;
  std::map<ChunkSeq, Held> held_;
  // Arrival times of the held chunks: the earliest dates the current hole.
  std::multiset<TimePoint> arrivals_;
  std::size_t held_bytes_ = 0;
  std::uint64_t seen_before_start_ = 0;
  // Per stripe: one past the newest seq seen (0: none yet).
  std::vector<ChunkSeq> stripe_next_;
  // Ranges [from, to) that expect() announced, by from.
  std::map<ChunkSeq, ChunkSeq> expected_;
  // One past the last seq skipped: a skip right after it extends its gap.
  std::optional<ChunkSeq> skipped_to_;
  PlayoutStats stats_;
};

}  // namespace vt
