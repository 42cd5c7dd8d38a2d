// Chunker: cuts the source's input into numbered chunks.
//
// Bytes go in with push(), in pieces of any size; chunks come out in seq
// order (0, 1, 2, ...), chunk seq on stripe seq % K. Concatenating the
// payloads of all chunks gives back the input byte for byte: the chunker never
// drops, adds or reorders a byte.
//
// MPEG-TS input (detected automatically, lib/stream/ts.h) is cut on 188-byte
// packet boundaries, so that a late joiner can begin at a chunk:
//  - a random-access point closes the current chunk once it holds at least
//    min_cut_size bytes; the program tables (PAT, PMT, SDT: PSI packets)
//    right before the random-access point move with it into the new chunk,
//    because a demuxer that starts there needs them first (ffmpeg writes
//    PAT and PMT just before every video key frame);
//  - a chunk that is full leaves a trailing run of PSI packets to the next
//    chunk for the same reason;
//  - a chunk is flagged Chunk::random_access when its first packet that is
//    not PSI is a random-access point.
// Bytes that are not part of an aligned packet (a stream that starts in the
// middle of a packet, garbage after which packets resume) close the chunk
// they fall into, so the next chunk starts on a packet again: a corrupt
// packet, or up to 188 bytes of garbage, ends a chunk and the packets after
// it are cut as before (resync). A TS stream whose packets do not resume
// within that distance is carried on in plain mode. Any other input is cut
// into target_size pieces.
//
// A chunk is emitted when it is full (the next packet would pass
// target_size; in plain mode at exactly target_size), when a random-access
// point cuts it, or when its oldest byte has waited max_delay (time flush):
// call poll() at next_deadline() so a slow stream is not held back. In TS
// mode a time flush emits whole packets only; an incomplete packet waits for
// its remaining bytes. finish() emits what is left and an end-of-stream
// marker chunk.
//
// No clock is read: every call takes `now`. Chunk::timestamp is the arrival
// time of the chunk's first byte, measured from the first push(). Not
// thread-safe.
//
//   auto chunker = vt::Chunker::create({.stripes = 4}).value();
//   for (vt::Chunk& c : chunker.push(bytes_from_stdin, now)) send(std::move(c));
//   for (vt::Chunk& c : chunker.poll(now)) send(std::move(c));        // at next_deadline()
//   for (vt::Chunk& c : chunker.finish(now)) send(std::move(c));      // at end of input
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/kernel/error.h"
#include "lib/stream/chunk.h"
#include "lib/stream/ts.h"

namespace vt {

struct ChunkerOptions {
  // K: chunk seq goes to stripe seq % K. 1..kMaxStripes.
  std::uint32_t stripes = kDefaultStripes;
  // Size at which a chunk is emitted: 188..kMaxChunkPayload. In TS mode a
  // chunk holds at most target_size / 188 whole packets (87 for 16 KiB),
  // so no chunk is ever larger than target_size.
  std::size_t target_size = 16 * 1024;
  // TS mode: a random-access point starts a new chunk when the current one
  // holds at least this many bytes (values above target_size act as
  // target_size). Smaller chunks keep it inside, to avoid tiny chunks.
  std::size_t min_cut_size = 2 * 1024;
  // Longest time a byte waits in the chunker before its chunk is emitted.
  std::chrono::microseconds max_delay = std::chrono::milliseconds(100);
  // Look for MPEG-TS; false treats every input as plain bytes.
  bool detect_ts = true;
  // Consecutive sync bytes that make the input MPEG-TS (TsDetector), 2..64.
  int detect_packets = 5;
};

enum class ChunkerMode {
  kDetecting,  // too few bytes seen yet to tell
  kTs,         // MPEG-TS, packet-aligned
  kPlain,      // arbitrary bytes
};

struct ChunkerStats {
  std::uint64_t bytes_in = 0;
  std::uint64_t chunks = 0;  // including the end-of-stream marker
  std::uint64_t ts_packets = 0;
  std::uint64_t random_access_points = 0;  // packets that were random-access points
  std::uint64_t random_access_chunks = 0;  // chunks flagged random_access
  std::uint64_t size_flushes = 0;
  std::uint64_t time_flushes = 0;
  std::uint64_t random_access_cuts = 0;  // chunks closed early by a random-access point
  std::uint64_t misaligned_bytes = 0;    // TS mode: bytes outside aligned packets
  std::uint64_t resyncs = 0;             // TS mode: packet alignment found again
};

class Chunker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Fails with kInvalidArgument, naming the option, when options are out of
  // range.
  static peers::Result<Chunker> create(const ChunkerOptions& options);

  // Takes the next bytes of the input (any size, also empty) and returns the
  // chunks that are complete, including any whose time is due at now.
  // Throws peers::Error(kInvalidArgument) after finish().
  std::vector<Chunk> push(std::string_view bytes, TimePoint now);

  // Returns the chunks whose time is due at now (a chunk whose oldest byte
  // arrived at t is due when now >= t + max_delay). Also settles a pending
  // MPEG-TS detection whose bytes have waited max_delay.
  std::vector<Chunk> poll(TimePoint now);

  // When poll() next has something to do; nullopt while nothing waits.
  std::optional<TimePoint> next_deadline() const;

  // End of input: emits everything still buffered (an incomplete last packet
  // too), then the end-of-stream marker (empty payload, end_of_stream set,
  // the next seq). Later calls return nothing.
  std::vector<Chunk> finish(TimePoint now);

  ChunkerMode mode() const { return mode_; }
  bool finished() const { return finished_; }
  // The seq the next chunk will get.
  ChunkSeq next_seq() const { return next_seq_; }
  // Bytes pushed but not yet emitted.
  std::size_t buffered_bytes() const { return pending_.size() + current_.size(); }
  const ChunkerStats& stats() const { return stats_; }
  const ChunkerOptions& options() const { return options_; }

 private:
  explicit Chunker(const ChunkerOptions& options);

  // Consumes what it can of data (whose first byte is at absolute input
  // offset base) into the current chunk, emitting chunks into out. Returns
  // how many bytes it consumed; the rest waits for more input.
  std::size_t consume(std::string_view data, std::uint64_t base, TimePoint now, bool final,
                      std::vector<Chunk>& out);
  void add_packet(std::string_view packet, TimePoint arrival, std::vector<Chunk>& out);
  void add_misaligned(std::string_view bytes, TimePoint arrival, std::vector<Chunk>& out);
  void append(std::string_view bytes, TimePoint arrival);
  void emit(std::vector<Chunk>& out);
  // Emits the current chunk without its trailing run of PSI packets, which
  // then starts the next chunk (emits all of it when there is no such run,
  // or the run is the whole chunk).
  void emit_before_psi_tail(std::vector<Chunk>& out);
  // Consumes pending input and emits what is due at now.
  void advance(TimePoint now, bool final, std::vector<Chunk>& out);
  // Arrival time of the input byte at absolute offset pos.
  TimePoint arrival(std::uint64_t pos) const;
  bool overdue(TimePoint since, TimePoint now) const { return now >= since + options_.max_delay; }

  ChunkerOptions options_;
  TsDetector detector_;
  ChunkerMode mode_;
  bool finished_ = false;
  std::optional<TimePoint> start_;
  // Input not yet part of a chunk, and the absolute offset of its first byte.
  std::string pending_;
  std::uint64_t pending_base_ = 0;
  // (absolute offset of a push's first byte, time of that push), oldest
  // first; kept only as far back as pending_ needs.
  std::deque<std::pair<std::uint64_t, TimePoint>> arrivals_;
  // What the chunk being filled begins with, for its random_access flag.
  enum class Lead { kOnlyPsi, kRandomAccess, kOther };
  // The chunk being filled, the arrival of its first byte, what it begins
  // with, and the trailing run of PSI packets in it (offset, arrival).
  std::string current_;
  TimePoint current_since_{};
  Lead current_lead_ = Lead::kOnlyPsi;
  std::optional<std::pair<std::size_t, TimePoint>> psi_tail_;
  ChunkSeq next_seq_ = 0;
  ChunkerStats stats_;
};

}  // namespace vt
