// Fuzz target: frames (lib/wire/frame.h), the plaintext of every record a
// peer sends after the handshake. A frame that decodes must encode back to
// bytes that decode to the same frame.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "lib/wire/frame.h"

namespace {

using peers::wire::Continuation;
using peers::wire::ErrorBody;
using peers::wire::Frame;
using peers::wire::FrameType;

bool same(const Continuation& a, const Continuation& b) {
  return a.caller_id == b.caller_id && a.caller_addr == b.caller_addr && a.call_id == b.call_id &&
         a.token == b.token && a.hops == b.hops;
}

bool same(const ErrorBody& a, const ErrorBody& b) {
  return a.code == b.code && a.type_name == b.type_name && a.message == b.message &&
         a.origin == b.origin && a.call_path == b.call_path && a.fields == b.fields;
}

bool same(const Frame& a, const Frame& b) {
  return a.type == b.type && a.call.call_id == b.call.call_id &&
         a.call.method_id == b.call.method_id && a.call.deadline_ms == b.call.deadline_ms &&
         a.call.has_continuation == b.call.has_continuation &&
         same(a.call.continuation, b.call.continuation) && a.id == b.id && a.number == b.number &&
         same(a.error, b.error) && a.has_error == b.has_error &&
         same(a.continuation, b.continuation) && a.payload == b.payload;
}

std::string encode(const Frame& f) {
  namespace w = peers::wire;
  std::string out;
  switch (f.type) {
    case FrameType::kCall:
      w::encode_call(out, f.call, f.payload);
      break;
    case FrameType::kReply:
      w::encode_reply(out, f.id, f.payload);
      break;
    case FrameType::kError:
      w::encode_error(out, f.id, f.error);
      break;
    case FrameType::kEvent:
      w::encode_event(out, static_cast<std::uint32_t>(f.id), f.payload);
      break;
    case FrameType::kData:
      w::encode_data_header(out, f.id);
      out.append(f.payload);
      break;
    case FrameType::kCredit:
      w::encode_credit(out, f.id, f.number);
      break;
    case FrameType::kCancel:
      w::encode_cancel(out, f.id);
      break;
    case FrameType::kPing:
    case FrameType::kPong:
      w::encode_ping(out, f.type, f.number);
      break;
    case FrameType::kGoaway:
      w::encode_goaway(out, f.id, f.payload);
      break;
    case FrameType::kCloseChannel:
      w::encode_close_channel(out, f.id, f.has_error ? &f.error : nullptr);
      break;
    case FrameType::kContReply:
      w::encode_cont_reply(out, f.continuation, f.payload);
      break;
    case FrameType::kContError:
      w::encode_cont_error(out, f.continuation, f.error);
      break;
    case FrameType::kForwarded:
      w::encode_forwarded(out, f.id);
      break;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  std::string_view bytes = in.rest();
  auto frame = peers::wire::decode_frame(bytes);
  if (!frame) {
    PEERS_FUZZ_CHECK(frame.error().code() == peers::Errc::kProtocol, "a bad frame is kProtocol");
    return 0;
  }
  PEERS_FUZZ_CHECK(!frame->payload.data() ||
                       (frame->payload.data() >= bytes.data() &&
                        frame->payload.data() + frame->payload.size() <= bytes.data() + size),
                   "the payload is a view into the frame");
  std::string again = encode(*frame);
  auto back = peers::wire::decode_frame(again);
  PEERS_FUZZ_CHECK(back.ok(), "a re-encoded frame decodes");
  PEERS_FUZZ_CHECK(same(*frame, *back), "a re-encoded frame decodes to the same frame");
  return 0;
}
