#include "lib/stream/playout_buffer.h"

#include <algorithm>
#include <string>
#include <utility>

namespace vt {
namespace {

peers::Error bad_option(const std::string& what) {
  return peers::Error(peers::Errc::kInvalidArgument, "invalid playout options: " + what);
}

}  // namespace

std::string_view to_string(InsertResult result) {
  switch (result) {
    case InsertResult::kAccepted:
      return "accepted";
    case InsertResult::kDuplicate:
      return "duplicate";
    case InsertResult::kTooOld:
      return "too_old";
    case InsertResult::kTooFarAhead:
      return "too_far_ahead";
    case InsertResult::kAfterEnd:
      return "after_end";
  }
  return "unknown";
}

peers::Result<PlayoutBuffer> PlayoutBuffer::create(const PlayoutOptions& options) {
  if (options.buffer.count() <= 0) return bad_option("buffer must be positive");
  if (options.window < 1) return bad_option("window must be at least 1");
  if (options.late_limit < options.buffer) return bad_option("late_limit must be >= buffer");
  if (options.start == StartPolicy::kRandomAccess &&
      (options.rap_search_chunks < 1 || options.rap_search_chunks > options.window)) {
    return bad_option("rap_search_chunks " + std::to_string(options.rap_search_chunks) +
                      " not in 1..window (" + std::to_string(options.window) + ")");
  }
  PlayoutBuffer buffer(options);
  buffer.stripe_next_.assign(options.stripes, 0);
  if (options.start == StartPolicy::kAtSeq) buffer.start_at(options.start_seq);
  return buffer;
}

std::optional<ChunkSeq> PlayoutBuffer::next_seq() const {
  if (!started_) return std::nullopt;
  return next_;
}

void PlayoutBuffer::note_progress(const Chunk& chunk) {
  if (stripe_next_.empty()) return;
  ChunkSeq& next = stripe_next_[chunk.seq % stripe_next_.size()];
  next = std::max(next, chunk.seq + 1);
}

bool PlayoutBuffer::hole_is_lost() const {
  // A range announced as on its way: late, whatever its stripe did since.
  auto it = expected_.upper_bound(next_);
  if (it != expected_.begin() && next_ < std::prev(it)->second) return false;
  if (stripe_next_.empty()) return true;
  return stripe_next_[next_ % stripe_next_.size()] > next_ + 1;
}

void PlayoutBuffer::expect(ChunkSeq from, ChunkSeq to) {
  if (to <= from || to <= next_) return;
  expected_[from] = std::max(expected_[from], to);
  // Ranges the play point went past mean nothing any more.
  std::erase_if(expected_, [&](const auto& r) { return r.second <= next_; });
}

void PlayoutBuffer::forget_expected(ChunkSeq from) { expected_.erase(from); }

InsertResult PlayoutBuffer::insert(Chunk chunk, TimePoint now) {
  if (end_seq_ && chunk.seq > *end_seq_) {
    ++stats_.after_end;
    return InsertResult::kAfterEnd;
  }
  // Chunks are signed by the source: even a refused one shows how far its
  // stripe has come.
  note_progress(chunk);
  if (!started_) return insert_before_start(std::move(chunk), now);
  if (finished_ || chunk.seq < next_) {
    ++stats_.too_old;
    return InsertResult::kTooOld;
  }
  if (held_.contains(chunk.seq)) {
    ++stats_.duplicates;
    return InsertResult::kDuplicate;
  }
  if (chunk.seq - next_ >= options_.window) {
    ++stats_.too_far_ahead;
    return InsertResult::kTooFarAhead;
  }
  hold(std::move(chunk), now);
  return InsertResult::kAccepted;
}

InsertResult PlayoutBuffer::insert_before_start(Chunk chunk, TimePoint now) {
  const ChunkSeq seq = chunk.seq;
  if (held_.contains(seq)) {
    ++stats_.duplicates;
    return InsertResult::kDuplicate;
  }
  if (!held_.empty()) {
    ChunkSeq lowest = std::min(held_.begin()->first, seq);
    ChunkSeq highest = std::max(held_.rbegin()->first, seq);
    if (highest - lowest >= options_.window) {
      if (seq > held_.rbegin()->first) {
        ++stats_.too_far_ahead;
        return InsertResult::kTooFarAhead;
      }
      ++stats_.too_old;
      return InsertResult::kTooOld;
    }
  }
  const bool random_access = chunk.random_access;
  const bool end_of_stream = chunk.end_of_stream;
  hold(std::move(chunk), now);
  ++seen_before_start_;
  switch (options_.start) {
    case StartPolicy::kFirstChunk:
      start_at(seq);
      break;
    case StartPolicy::kRandomAccess:
      if (random_access) {
        start_at(seq);
      } else if (end_of_stream || seen_before_start_ >= options_.rap_search_chunks) {
        start_at(held_.begin()->first);
      }
      break;
    case StartPolicy::kAtSeq:
      break;  // started in create()
  }
  return InsertResult::kAccepted;
}

void PlayoutBuffer::start_at(ChunkSeq seq) {
  started_ = true;
  next_ = seq;
  while (!held_.empty() && held_.begin()->first < seq) {
    ++stats_.dropped_before_start;
    drop(held_.begin());
  }
}

void PlayoutBuffer::hold(Chunk chunk, TimePoint now) {
  ++stats_.accepted;
  const ChunkSeq seq = chunk.seq;
  if (chunk.end_of_stream) {
    end_seq_ = seq;
    // Nothing can follow the end; whatever claimed to is dropped.
    while (!held_.empty() && held_.rbegin()->first > seq) {
      ++stats_.after_end;
      drop(std::prev(held_.end()));
    }
  }
  held_bytes_ += chunk.payload.size();
  arrivals_.insert(now);
  held_.emplace(seq, Held{std::move(chunk), now});
}

void PlayoutBuffer::drop(std::map<ChunkSeq, Held>::iterator it) {
  arrivals_.erase(arrivals_.find(it->second.arrival));
  held_bytes_ -= it->second.chunk.payload.size();
  held_.erase(it);
}

void PlayoutBuffer::release(std::map<ChunkSeq, Held>::iterator it, std::vector<Chunk>& out) {
  Chunk chunk = std::move(it->second.chunk);
  held_bytes_ -= chunk.payload.size();  // drop() would count the moved-from chunk
  arrivals_.erase(arrivals_.find(it->second.arrival));
  held_.erase(it);
  ++next_;
  ++stats_.released_chunks;
  stats_.released_bytes += chunk.payload.size();
  if (chunk.end_of_stream) finished_ = true;
  out.push_back(std::move(chunk));
}

std::vector<Chunk> PlayoutBuffer::pop_ready(TimePoint now) {
  std::vector<Chunk> out;
  if (!started_) return out;
  while (!finished_ && !held_.empty()) {
    auto it = held_.begin();
    if (it->first == next_) {
      release(it, out);
      continue;
    }
    // A hole before the lowest held chunk, known since the earliest arrival
    // among the held chunks (all of them come after it): skipped after the
    // buffer when lost, after the late limit when its stripe lags.
    const bool lost = hole_is_lost();
    if (now < *arrivals_.begin() + (lost ? options_.buffer : options_.late_limit)) break;
    if (skipped_to_ != next_) ++stats_.gaps;
    ++stats_.skipped_chunks;
    if (!lost) ++stats_.late_skipped;
    skipped_to_ = ++next_;
  }
  return out;
}

std::vector<Chunk> PlayoutBuffer::flush() {
  std::vector<Chunk> out;
  if (!started_ && !held_.empty()) start_at(held_.begin()->first);
  while (!finished_ && !held_.empty()) {
    auto it = held_.begin();
    if (it->first != next_) {
      if (skipped_to_ != next_) ++stats_.gaps;
      stats_.skipped_chunks += it->first - next_;
      next_ = it->first;
      skipped_to_ = next_;
    }
    release(it, out);
  }
  finished_ = true;
  return out;
}

std::optional<PlayoutBuffer::TimePoint> PlayoutBuffer::next_deadline() const {
  if (!started_ || finished_ || held_.empty() || held_.begin()->first == next_) return std::nullopt;
  return *arrivals_.begin() + (hole_is_lost() ? options_.buffer : options_.late_limit);
}

}  // namespace vt
