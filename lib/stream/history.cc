#include "lib/stream/history.h"

#include <algorithm>
#include <utility>

namespace vt {

History::History(const HistoryOptions& options) : options_(options) {}

bool History::add(ChunkSeq seq, SharedBytes bytes, TimePoint now) {
  if (!bytes) return false;
  if (evicted_up_to_ && seq <= *evicted_up_to_) return false;
  if (entries_.contains(seq)) return false;
  bytes_ += bytes->size();
  entries_.emplace(seq, Entry{std::move(bytes), now});
  expire(now);
  enforce_bounds();
  return true;
}

void History::expire(TimePoint now) {
  // Oldest seq first: an entry that came late (a resend filling a hole) may
  // outlive its age by as long as the entries before it do.
  while (!entries_.empty() && entries_.begin()->second.added + options_.max_age <= now) {
    evict_oldest();
  }
}

void History::enforce_bounds() {
  while (entries_.size() > 1 &&
         (bytes_ > options_.max_bytes || entries_.size() > options_.max_chunks)) {
    evict_oldest();
  }
}

void History::evict_oldest() {
  auto it = entries_.begin();
  evicted_up_to_ = evicted_up_to_ ? std::max(*evicted_up_to_, it->first) : it->first;
  bytes_ -= it->second.bytes->size();
  entries_.erase(it);
}

std::vector<HistoryEntry> History::since(ChunkSeq first) const {
  std::vector<HistoryEntry> out;
  for (auto it = entries_.lower_bound(first); it != entries_.end(); ++it) {
    out.push_back({it->first, it->second.bytes});
  }
  return out;
}

bool History::covers(ChunkSeq first) const { return !evicted_up_to_ || first > *evicted_up_to_; }

std::optional<ChunkSeq> History::oldest_seq() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.begin()->first;
}

std::optional<ChunkSeq> History::newest_seq() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.rbegin()->first;
}

}  // namespace vt
