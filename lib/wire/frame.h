// Frames: the units one Peers connection carries, above the record layer.
//
// On an established connection every frame travels in its own record (see
// docs/protocol.md): a 4-byte big-endian length, then the sealed frame. A
// frame (the plaintext) is one type byte and a body:
//
//   CALL       call_id, method_id, deadline_ms, flags [, continuation], args
//   REPLY      call_id, result
//   ERROR      call_id, error
//   EVENT      method_id, args                 (one-way, no reply)
//   DATA       channel_id, payload             (raw bytes, never re-encoded)
//   CREDIT     channel_id, bytes               (receiver grants send window)
//   CANCEL     call_id
//   PING/PONG  8 opaque bytes
//   GOAWAY     last_call_id, reason            (no new calls; in-flight finish)
//   CLOSE_CHANNEL channel_id, error?           (end of a data channel)
//   CONT_REPLY / CONT_ERROR                    (answers to a tail-forwarded call,
//                                              sent straight to the original caller)
//   FORWARDED  call_id                         (the callee tail-called another node;
//                                              the answer will come from elsewhere)
//
// Integers are varints (lib/wire/codec.h); args, result and payload run to
// the end of the frame, so they are passed through without a copy. Decoding
// returns a typed error for anything malformed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/kernel/error.h"

namespace peers::wire {

// Hard limits; a peer that exceeds them is disconnected.
inline constexpr std::size_t kMaxFrameSize = (1u << 20) + 256;  // 1 MiB payload + header
inline constexpr std::size_t kMaxNameSize = 256;
inline constexpr std::size_t kMaxMessageSize = 4096;

enum class FrameType : std::uint8_t {
  kCall = 1,
  kReply = 2,
  kError = 3,
  kEvent = 4,
  kData = 5,
  kCredit = 6,
  kCancel = 7,
  kPing = 8,
  kPong = 9,
  kGoaway = 10,
  kCloseChannel = 11,
  kContReply = 12,
  kContError = 13,
  kForwarded = 14,
};

std::string_view frame_type_name(FrameType t);

// Where the answer to a tail-forwarded call goes: the original caller.
struct Continuation {
  std::string caller_id;    // peer id text of the original caller
  std::string caller_addr;  // host:port where the original caller accepts connections
  std::uint64_t call_id = 0;  // the original caller's call id
  std::string token;        // proves the answer is for that call (16 bytes)
  std::uint32_t hops = 0;   // forwards so far; bounded to stop loops
};

inline constexpr std::uint32_t kMaxForwardHops = 32;

struct CallHeader {
  std::uint64_t call_id = 0;
  std::uint32_t method_id = 0;
  std::uint64_t deadline_ms = 0;  // relative; 0 = none
  bool has_continuation = false;
  Continuation continuation;
};

struct ErrorBody {
  Errc code = Errc::kInternal;
  std::string type_name;
  std::string message;
  std::string origin;
  std::string call_path;
  std::string fields;  // typed error fields (value codec)
};

// Encoders append a whole frame (type byte + body) to out.
void encode_call(std::string& out, const CallHeader& h, std::string_view args);
void encode_reply(std::string& out, std::uint64_t call_id, std::string_view result);
void encode_error(std::string& out, std::uint64_t call_id, const ErrorBody& e);
void encode_event(std::string& out, std::uint32_t method_id, std::string_view args);
void encode_data_header(std::string& out, std::uint64_t channel_id);  // payload follows
void encode_credit(std::string& out, std::uint64_t channel_id, std::uint64_t bytes);
void encode_cancel(std::string& out, std::uint64_t call_id);
void encode_ping(std::string& out, FrameType ping_or_pong, std::uint64_t opaque);
void encode_goaway(std::string& out, std::uint64_t last_call_id, std::string_view reason);
void encode_close_channel(std::string& out, std::uint64_t channel_id, const ErrorBody* error);
void encode_cont_reply(std::string& out, const Continuation& c, std::string_view result);
void encode_cont_error(std::string& out, const Continuation& c, const ErrorBody& e);
void encode_forwarded(std::string& out, std::uint64_t call_id);

// A decoded frame; views point into the frame bytes.
struct Frame {
  FrameType type{};
  CallHeader call;            // kCall
  std::uint64_t id = 0;       // call id (reply, error, cancel, goaway), channel id, method id (event)
  std::uint64_t number = 0;   // credit bytes, ping opaque
  ErrorBody error;            // kError, kContError, kCloseChannel (if has_error)
  bool has_error = false;     // kCloseChannel
  Continuation continuation;  // kContReply, kContError
  std::string_view payload;   // args, result, data, goaway reason
};

Result<Frame> decode_frame(std::string_view bytes);

}  // namespace peers::wire
