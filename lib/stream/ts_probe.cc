#include "lib/stream/ts_probe.h"

#include <cstdio>

namespace vt {

namespace {

using std::chrono::microseconds;

// A PCR step larger than this, or backwards, is a discontinuity (a new
// clock): the stream time goes on from where it was.
constexpr std::uint64_t kMaxPcrStep = 27'000'000ull * 10;

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

// The table section a packet starts (after the pointer field), or empty.
std::string_view section_of(std::string_view packet, const TsPacketHeader& h) {
  if (!h.payload_unit_start || !h.has_payload || h.payload_offset >= packet.size()) return {};
  std::string_view payload = packet.substr(h.payload_offset);
  std::size_t pointer = byte_at(payload, 0);
  if (1 + pointer + 3 > payload.size()) return {};
  std::string_view section = payload.substr(1 + pointer);
  std::size_t length = ((byte_at(section, 1) & 0x0F) << 8) | byte_at(section, 2);
  if (3 + length > section.size() || length < 9) return {};  // spans packets, or too short
  return section.substr(0, 3 + length);
}

// Private data (stream_type 0x06) names its codec in a descriptor.
std::string private_codec(std::string_view descriptors) {
  for (std::size_t i = 0; i + 2 <= descriptors.size();) {
    std::uint8_t tag = byte_at(descriptors, i);
    std::size_t len = byte_at(descriptors, i + 1);
    if (i + 2 + len > descriptors.size()) break;
    std::string_view body = descriptors.substr(i + 2, len);
    if (tag == 0x6A) return "ac3";
    if (tag == 0x7A) return "eac3";
    if (tag == 0x59) return "dvb_subtitle";
    if (tag == 0x56) return "teletext";
    if (tag == 0x05 && body == "Opus") return "opus";
    i += 2 + len;
  }
  return "private";
}

}  // namespace

std::string ts_codec_name(std::uint8_t type) {
  switch (type) {
    case 0x01:
      return "mpeg1video";
    case 0x02:
      return "mpeg2video";
    case 0x03:
    case 0x04:
      return "mp2";
    case 0x06:
      return "private";
    case 0x0F:
      return "aac";
    case 0x10:
      return "mpeg4";
    case 0x11:
      return "aac_latm";
    case 0x15:
      return "metadata";
    case 0x1B:
      return "h264";
    case 0x24:
      return "hevc";
    case 0x81:
      return "ac3";
    case 0x86:
      return "scte35";
    case 0x87:
      return "eac3";
    default: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "type 0x%02x", type);
      return buf;
    }
  }
}

void TsProbe::push(std::string_view bytes) {
  points_.clear();
  std::uint64_t start = bytes_;
  bytes_ += bytes.size();
  if (verdict_ == TsVerdict::kNotTs) return;
  std::size_t from = 0;  // where in `bytes` the packets (after carry_) begin
  if (verdict_ == TsVerdict::kNeedMore) {
    head_.append(bytes);
    TsAlignment a = TsDetector().examine(head_, false);
    verdict_ = a.verdict;
    if (verdict_ != TsVerdict::kTs) {
      if (verdict_ == TsVerdict::kNotTs) head_.clear();
      return;
    }
    // The head is all of the stream so far; packets start at a.offset.
    std::uint64_t head_start = bytes_ - head_.size();
    align_offset_ = head_start + a.offset;
    std::string head = std::move(head_);
    head_.clear();
    std::size_t at = a.offset;
    for (; at + kTsPacketSize <= head.size(); at += kTsPacketSize) {
      std::uint64_t end = head_start + at + kTsPacketSize;
      packet(std::string_view(head).substr(at, kTsPacketSize),
             end > start ? static_cast<std::size_t>(end - start) : 0);
    }
    carry_ = head.substr(at);
    return;
  }
  if (!carry_.empty()) {
    std::size_t need = kTsPacketSize - carry_.size();
    if (bytes.size() < need) {
      carry_.append(bytes);
      return;
    }
    carry_.append(bytes.substr(0, need));
    packet(carry_, need);
    carry_.clear();
    from = need;
  }
  for (; from + kTsPacketSize <= bytes.size(); from += kTsPacketSize) {
    packet(bytes.substr(from, kTsPacketSize), from + kTsPacketSize);
  }
  carry_.assign(bytes.substr(from));
}

void TsProbe::finish() {
  if (verdict_ != TsVerdict::kNeedMore) return;
  std::string head = std::move(head_);
  head_.clear();
  TsAlignment a = TsDetector().examine(head, true);
  verdict_ = a.verdict;
  if (verdict_ != TsVerdict::kTs) return;
  align_offset_ = bytes_ - head.size() + a.offset;
  for (std::size_t at = a.offset; at + kTsPacketSize <= head.size(); at += kTsPacketSize) {
    packet(std::string_view(head).substr(at, kTsPacketSize), 0);
  }
}

void TsProbe::packet(std::string_view p, std::size_t end_in_push) {
  ++packets_;
  std::uint64_t end_byte = align_offset_ + packets_ * kTsPacketSize;
  auto h = parse_ts_packet(p);
  if (!h) return;  // a packet out of sync: skipped
  if (h->pid == 0) {
    if (auto section = section_of(p, *h); !section.empty() && byte_at(section, 0) == 0x00) {
      read_pat(section);
    }
  } else {
    for (TsProgram& program : programs_) {
      if (program.pmt_pid != h->pid) continue;
      if (auto section = section_of(p, *h); !section.empty() && byte_at(section, 0) == 0x02) {
        read_pmt(program, section);
      }
    }
  }
  if (!h->pcr) return;
  // The clock is the first program's PCR PID, or the first PID with a PCR.
  if (!clock_pid_) {
    clock_pid_ = !programs_.empty() && programs_[0].pmt_seen ? programs_[0].pcr_pid : h->pid;
  }
  if (h->pid != *clock_pid_) return;
  std::uint64_t pcr = *h->pcr;
  if (last_pcr_ && pcr > *last_pcr_ && pcr - *last_pcr_ <= kMaxPcrStep && !h->discontinuity) {
    clock_time_ += microseconds((pcr - *last_pcr_) / 27);
  }
  last_pcr_ = pcr;
  points_.push_back({end_in_push, clock_time_});
  if (!first_pcr_byte_) first_pcr_byte_ = end_byte;
  last_pcr_byte_ = end_byte;
}

void TsProbe::read_pat(std::string_view section) {
  pat_seen_ = true;
  // Entries after the 8-byte header, before the 4-byte CRC.
  for (std::size_t i = 8; i + 4 <= section.size() - 4; i += 4) {
    std::uint16_t number =
        static_cast<std::uint16_t>(byte_at(section, i) << 8 | byte_at(section, i + 1));
    std::uint16_t pid =
        static_cast<std::uint16_t>((byte_at(section, i + 2) & 0x1F) << 8 | byte_at(section, i + 3));
    if (number == 0) continue;  // the network PID
    bool known = false;
    for (const TsProgram& p : programs_) known = known || p.number == number;
    if (!known) {
      TsProgram program;
      program.number = number;
      program.pmt_pid = pid;
      programs_.push_back(std::move(program));
    }
  }
}

void TsProbe::read_pmt(TsProgram& program, std::string_view section) {
  if (section.size() < 16) return;
  program.pcr_pid =
      static_cast<std::uint16_t>((byte_at(section, 8) & 0x1F) << 8 | byte_at(section, 9));
  std::size_t info = (byte_at(section, 10) & 0x0F) << 8 | byte_at(section, 11);
  std::vector<TsElementaryStream> streams;
  for (std::size_t i = 12 + info; i + 5 <= section.size() - 4;) {
    TsElementaryStream es;
    es.stream_type = byte_at(section, i);
    es.pid =
        static_cast<std::uint16_t>((byte_at(section, i + 1) & 0x1F) << 8 | byte_at(section, i + 2));
    std::size_t es_info = (byte_at(section, i + 3) & 0x0F) << 8 | byte_at(section, i + 4);
    if (i + 5 + es_info > section.size() - 4) break;
    es.codec = es.stream_type == 0x06 ? private_codec(section.substr(i + 5, es_info))
                                      : ts_codec_name(es.stream_type);
    streams.push_back(std::move(es));
    i += 5 + es_info;
  }
  program.streams = std::move(streams);
  program.pmt_seen = true;
}

bool TsProbe::tables_complete() const {
  if (!pat_seen_) return false;
  for (const TsProgram& p : programs_) {
    if (!p.pmt_seen) return false;
  }
  return true;
}

std::optional<double> TsProbe::bit_rate_bps() const {
  if (!first_pcr_byte_ || clock_time_ < std::chrono::seconds(1)) return std::nullopt;
  double seconds = std::chrono::duration<double>(clock_time_).count();
  return static_cast<double>(last_pcr_byte_ - *first_pcr_byte_) * 8 / seconds;
}

std::string TsProbe::describe() const {
  if (!pat_seen_) return "no program tables yet";
  std::string out =
      std::to_string(programs_.size()) + (programs_.size() == 1 ? " program: " : " programs: ");
  for (std::size_t i = 0; i < programs_.size(); ++i) {
    const TsProgram& p = programs_[i];
    out += (i ? ", " : "") + std::to_string(p.number) + " (";
    if (!p.pmt_seen) out += "no PMT yet";
    for (std::size_t j = 0; j < p.streams.size(); ++j) {
      out += (j ? ", " : "") + p.streams[j].codec;
    }
    out += ")";
  }
  return out;
}

}  // namespace vt
