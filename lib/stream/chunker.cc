#include "lib/stream/chunker.h"

#include <algorithm>
#include <iterator>

namespace vt {
namespace {

peers::Error bad_option(const std::string& what) {
  return peers::Error(peers::Errc::kInvalidArgument, "invalid chunker options: " + what);
}

}  // namespace

peers::Result<Chunker> Chunker::create(const ChunkerOptions& options) {
  if (options.stripes < 1 || options.stripes > kMaxStripes) {
    return bad_option("stripes " + std::to_string(options.stripes) + " not in 1.." +
                      std::to_string(kMaxStripes));
  }
  if (options.target_size < kTsPacketSize || options.target_size > kMaxChunkPayload) {
    return bad_option("target_size " + std::to_string(options.target_size) + " not in 188.." +
                      std::to_string(kMaxChunkPayload));
  }
  if (options.max_delay.count() <= 0) return bad_option("max_delay must be positive");
  if (options.detect_packets < 2 || options.detect_packets > 64) {
    return bad_option("detect_packets " + std::to_string(options.detect_packets) + " not in 2..64");
  }
  return Chunker(options);
}

Chunker::Chunker(const ChunkerOptions& options)
    : options_(options),
      detector_(options.detect_packets),
      mode_(options.detect_ts ? ChunkerMode::kDetecting : ChunkerMode::kPlain) {}

std::vector<Chunk> Chunker::push(std::string_view bytes, TimePoint now) {
  if (finished_) throw peers::Error(peers::Errc::kInvalidArgument, "Chunker::push after finish");
  if (!start_) start_ = now;
  std::vector<Chunk> out;
  if (!bytes.empty()) {
    std::uint64_t base = pending_base_ + pending_.size();
    arrivals_.emplace_back(base, now);
    stats_.bytes_in += bytes.size();
    if (pending_.empty()) {
      // Common case: nothing waits, so work on the caller's bytes directly
      // and keep only the unconsumed tail.
      std::size_t used = consume(bytes, base, now, false, out);
      pending_.assign(bytes.substr(used));
      pending_base_ = base + used;
    } else {
      pending_.append(bytes);
    }
  }
  advance(now, false, out);
  return out;
}

std::vector<Chunk> Chunker::poll(TimePoint now) {
  std::vector<Chunk> out;
  if (!finished_) advance(now, false, out);
  return out;
}

std::vector<Chunk> Chunker::finish(TimePoint now) {
  std::vector<Chunk> out;
  if (finished_) return out;
  if (!start_) start_ = now;
  advance(now, true, out);
  if (!pending_.empty()) {
    // An incomplete last packet (or undecided bytes): it goes out as is.
    TimePoint since = arrival(pending_base_);
    if (current_.size() + pending_.size() > options_.target_size) emit(out);
    append(pending_, since);
    if (mode_ == ChunkerMode::kTs) stats_.misaligned_bytes += pending_.size();
    pending_base_ += pending_.size();
    pending_.clear();
  }
  if (!current_.empty()) emit(out);
  Chunk end;
  end.seq = next_seq_++;
  end.stripe = stripe_of(end.seq, options_.stripes);
  end.end_of_stream = true;
  end.timestamp = std::chrono::duration_cast<std::chrono::microseconds>(now - *start_);
  out.push_back(std::move(end));
  ++stats_.chunks;
  arrivals_.clear();
  finished_ = true;
  return out;
}

std::optional<Chunker::TimePoint> Chunker::next_deadline() const {
  if (finished_) return std::nullopt;
  std::optional<TimePoint> deadline;
  if (!current_.empty()) deadline = current_since_ + options_.max_delay;
  // Pending bytes have a deadline only while a decision waits on them; an
  // incomplete packet in TS mode just waits for its remaining bytes.
  bool deciding =
      !pending_.empty() &&
      (mode_ == ChunkerMode::kDetecting ||
       (mode_ == ChunkerMode::kTs && static_cast<std::uint8_t>(pending_[0]) != kTsSyncByte));
  if (deciding) {
    TimePoint t = arrival(pending_base_) + options_.max_delay;
    if (!deadline || t < *deadline) deadline = t;
  }
  return deadline;
}

void Chunker::advance(TimePoint now, bool final, std::vector<Chunk>& out) {
  if (!pending_.empty()) {
    std::size_t used = consume(pending_, pending_base_, now, final, out);
    pending_.erase(0, used);
    pending_base_ += used;
  }
  // Forget push times that no pending byte needs any more.
  while (arrivals_.size() > 1 && arrivals_[1].first <= pending_base_) arrivals_.pop_front();
  if (!current_.empty() && overdue(current_since_, now)) {
    ++stats_.time_flushes;
    emit(out);
  }
}

std::size_t Chunker::consume(std::string_view data, std::uint64_t base, TimePoint now, bool final,
                             std::vector<Chunk>& out) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::string_view rest = data.substr(pos);
    TimePoint since = arrival(base + pos);
    switch (mode_) {
      case ChunkerMode::kDetecting:
      case ChunkerMode::kTs: {
        bool aligned =
            mode_ == ChunkerMode::kTs && static_cast<std::uint8_t>(rest[0]) == kTsSyncByte;
        if (aligned) {
          if (rest.size() < kTsPacketSize) return pos;
          add_packet(rest.substr(0, kTsPacketSize), since, out);
          pos += kTsPacketSize;
          break;
        }
        // Detection at the start looks for the alignment within the first
        // packet; resync after a byte that should have been a sync byte looks
        // just past it, so that one corrupt packet is skipped over.
        const bool resync = mode_ == ChunkerMode::kTs;
        TsAlignment a =
            detector_.examine(rest.substr(resync ? 1 : 0), final || overdue(since, now));
        if (a.verdict == TsVerdict::kNeedMore) return pos;
        if (a.verdict == TsVerdict::kNotTs) {
          mode_ = ChunkerMode::kPlain;
          break;
        }
        if (resync) {
          ++stats_.resyncs;
          ++a.offset;
        }
        mode_ = ChunkerMode::kTs;
        if (a.offset > 0) {
          add_misaligned(rest.substr(0, a.offset), since, out);
          pos += a.offset;
        }
        break;
      }
      case ChunkerMode::kPlain: {
        std::size_t take = std::min(options_.target_size - current_.size(), rest.size());
        append(rest.substr(0, take), since);
        pos += take;
        if (current_.size() >= options_.target_size) {
          ++stats_.size_flushes;
          emit(out);
        }
        break;
      }
    }
  }
  return pos;
}

void Chunker::add_packet(std::string_view packet, TimePoint arrival, std::vector<Chunk>& out) {
  ++stats_.ts_packets;
  const bool psi = is_psi_packet(packet);
  const bool random_access = !psi && is_random_access_point(packet);
  if (random_access) {
    ++stats_.random_access_points;
    // Cut before the tables that precede the random-access point, if the
    // chunk before them is big enough to stand alone.
    std::size_t cut = psi_tail_ ? psi_tail_->first : current_.size();
    if (cut > 0 && cut >= std::min(options_.min_cut_size, options_.target_size)) {
      ++stats_.random_access_cuts;
      emit_before_psi_tail(out);
    }
  }
  if (psi) {
    if (!psi_tail_) psi_tail_.emplace(current_.size(), arrival);
  } else {
    psi_tail_.reset();
    if (current_lead_ == Lead::kOnlyPsi) {
      current_lead_ = random_access ? Lead::kRandomAccess : Lead::kOther;
    }
  }
  append(packet, arrival);
  // Emit as soon as the next packet cannot fit, rather than when it arrives:
  // a full chunk need not wait for more input.
  if (current_.size() + kTsPacketSize > options_.target_size) {
    ++stats_.size_flushes;
    emit_before_psi_tail(out);
  }
}

void Chunker::add_misaligned(std::string_view bytes, TimePoint arrival, std::vector<Chunk>& out) {
  stats_.misaligned_bytes += bytes.size();
  if (current_.size() + bytes.size() > options_.target_size) emit(out);
  append(bytes, arrival);
  psi_tail_.reset();
  if (current_lead_ == Lead::kOnlyPsi) current_lead_ = Lead::kOther;
  // The next byte starts an aligned packet; it starts the next chunk too.
  emit(out);
}

void Chunker::append(std::string_view bytes, TimePoint arrival) {
  if (bytes.empty()) return;
  if (current_.empty()) {
    current_since_ = arrival;
    current_.reserve(options_.target_size);
  }
  current_.append(bytes);
}

void Chunker::emit_before_psi_tail(std::vector<Chunk>& out) {
  if (!psi_tail_ || psi_tail_->first == 0) {
    emit(out);
    return;
  }
  auto [offset, since] = *psi_tail_;
  std::string tail = current_.substr(offset);
  current_.resize(offset);
  emit(out);
  current_since_ = since;
  current_.reserve(options_.target_size);
  current_.append(tail);
  psi_tail_.emplace(0, since);
}

void Chunker::emit(std::vector<Chunk>& out) {
  if (current_.empty()) return;
  Chunk c;
  c.seq = next_seq_++;
  c.stripe = stripe_of(c.seq, options_.stripes);
  c.random_access = current_lead_ == Lead::kRandomAccess;
  c.timestamp = std::chrono::duration_cast<std::chrono::microseconds>(current_since_ - *start_);
  c.payload = std::move(current_);
  current_.clear();
  current_lead_ = Lead::kOnlyPsi;
  psi_tail_.reset();
  if (c.random_access) ++stats_.random_access_chunks;
  ++stats_.chunks;
  out.push_back(std::move(c));
}

Chunker::TimePoint Chunker::arrival(std::uint64_t pos) const {
  // The last push that started at or before pos delivered it.
  auto it = std::upper_bound(arrivals_.begin(), arrivals_.end(), pos,
                             [](std::uint64_t p, const auto& a) { return p < a.first; });
  if (it == arrivals_.begin()) return start_.value_or(TimePoint{});
  return std::prev(it)->second;
}

}  // namespace vt
