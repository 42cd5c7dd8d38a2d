#include "lib/wire/frame.h"

#include "lib/wire/codec.h"

namespace peers::wire {
namespace {

void put_type(std::string& out, FrameType t) { out.push_back(static_cast<char>(t)); }

void put_continuation(Writer& w, const Continuation& c) {
  w.bytes(c.caller_id);
  w.bytes(c.caller_addr);
  w.varint(c.call_id);
  w.bytes(c.token);
  w.varint(c.hops);
}

void put_error(Writer& w, const ErrorBody& e) {
  w.varint(static_cast<std::uint64_t>(e.code));
  w.bytes(e.type_name);
  w.bytes(e.message.size() > kMaxMessageSize ? std::string_view(e.message).substr(0, kMaxMessageSize)
                                             : std::string_view(e.message));
  w.bytes(e.origin);
  w.bytes(e.call_path);
  w.bytes(e.fields);
}

Result<std::string> bounded_string(Reader& r, std::size_t limit, std::string_view what) {
  auto b = r.bytes();
  if (!b) return b.error();
  if (b->size() > limit) {
    return r.error(std::string(what) + " longer than " + std::to_string(limit) + " bytes");
  }
  return std::string(*b);
}

#define PEERS_TRY_ASSIGN(lhs, expr)  \
  do {                               \
    auto peers_tmp_ = (expr);        \
    if (!peers_tmp_) return peers_tmp_.error(); \
    lhs = std::move(*peers_tmp_);    \
  } while (0)

Result<Continuation> get_continuation(Reader& r) {
  Continuation c;
  PEERS_TRY_ASSIGN(c.caller_id, bounded_string(r, kMaxNameSize, "caller id"));
  PEERS_TRY_ASSIGN(c.caller_addr, bounded_string(r, kMaxNameSize, "caller address"));
  PEERS_TRY_ASSIGN(c.call_id, r.varint());
  PEERS_TRY_ASSIGN(c.token, bounded_string(r, 64, "continuation token"));
  PEERS_TRY_ASSIGN(c.hops, r.unsigned_int<std::uint32_t>());
  if (c.hops > kMaxForwardHops) return r.error("call forwarded more than 32 times");
  return c;
}

Result<ErrorBody> get_error(Reader& r) {
  ErrorBody e;
  std::uint64_t code = 0;
  PEERS_TRY_ASSIGN(code, r.varint());
  if (code > 0xffff) return r.error("error code out of range");
  e.code = static_cast<Errc>(code);
  PEERS_TRY_ASSIGN(e.type_name, bounded_string(r, kMaxNameSize, "error type name"));
  PEERS_TRY_ASSIGN(e.message, bounded_string(r, kMaxMessageSize, "error message"));
  PEERS_TRY_ASSIGN(e.origin, bounded_string(r, kMaxNameSize, "error origin"));
  PEERS_TRY_ASSIGN(e.call_path, bounded_string(r, kMaxMessageSize, "error call path"));
  std::string_view fields;
  PEERS_TRY_ASSIGN(fields, r.bytes());
  e.fields = std::string(fields);
  return e;
}

std::string_view rest(Reader& r) {
  auto v = r.raw(r.remaining());
  return v ? *v : std::string_view();
}

}  // namespace

std::string_view frame_type_name(FrameType t) {
  switch (t) {
    case FrameType::kCall: return "CALL";
    case FrameType::kReply: return "REPLY";
    case FrameType::kError: return "ERROR";
    case FrameType::kEvent: return "EVENT";
    case FrameType::kData: return "DATA";
    case FrameType::kCredit: return "CREDIT";
    case FrameType::kCancel: return "CANCEL";
    case FrameType::kPing: return "PING";
    case FrameType::kPong: return "PONG";
    case FrameType::kGoaway: return "GOAWAY";
    case FrameType::kCloseChannel: return "CLOSE_CHANNEL";
    case FrameType::kContReply: return "CONT_REPLY";
    case FrameType::kContError: return "CONT_ERROR";
    case FrameType::kForwarded: return "FORWARDED";
  }
  return "UNKNOWN";
}

void encode_call(std::string& out, const CallHeader& h, std::string_view args) {
  put_type(out, FrameType::kCall);
  Writer w(&out);
  w.varint(h.call_id);
  w.varint(h.method_id);
  w.varint(h.deadline_ms);
  w.varint(h.has_continuation ? 1 : 0);
  if (h.has_continuation) put_continuation(w, h.continuation);
  w.raw(args);
}

void encode_reply(std::string& out, std::uint64_t call_id, std::string_view result) {
  put_type(out, FrameType::kReply);
  Writer w(&out);
  w.varint(call_id);
  w.raw(result);
}

void encode_error(std::string& out, std::uint64_t call_id, const ErrorBody& e) {
  put_type(out, FrameType::kError);
  Writer w(&out);
  w.varint(call_id);
  put_error(w, e);
}

void encode_event(std::string& out, std::uint32_t method_id, std::string_view args) {
  put_type(out, FrameType::kEvent);
  Writer w(&out);
  w.varint(method_id);
  w.raw(args);
}

void encode_data_header(std::string& out, std::uint64_t channel_id) {
  put_type(out, FrameType::kData);
  Writer w(&out);
  w.varint(channel_id);
}

void encode_credit(std::string& out, std::uint64_t channel_id, std::uint64_t bytes) {
  put_type(out, FrameType::kCredit);
  Writer w(&out);
  w.varint(channel_id);
  w.varint(bytes);
}

void encode_cancel(std::string& out, std::uint64_t call_id) {
  put_type(out, FrameType::kCancel);
  Writer w(&out);
  w.varint(call_id);
}

void encode_ping(std::string& out, FrameType ping_or_pong, std::uint64_t opaque) {
  put_type(out, ping_or_pong);
  Writer w(&out);
  w.fixed64(opaque);
}

void encode_goaway(std::string& out, std::uint64_t last_call_id, std::string_view reason) {
  put_type(out, FrameType::kGoaway);
  Writer w(&out);
  w.varint(last_call_id);
  w.raw(reason.substr(0, kMaxMessageSize));
}

void encode_close_channel(std::string& out, std::uint64_t channel_id, const ErrorBody* error) {
  put_type(out, FrameType::kCloseChannel);
  Writer w(&out);
  w.varint(channel_id);
  w.varint(error ? 1 : 0);
  if (error) put_error(w, *error);
}

void encode_cont_reply(std::string& out, const Continuation& c, std::string_view result) {
  put_type(out, FrameType::kContReply);
  Writer w(&out);
  put_continuation(w, c);
  w.raw(result);
}

void encode_cont_error(std::string& out, const Continuation& c, const ErrorBody& e) {
  put_type(out, FrameType::kContError);
  Writer w(&out);
  put_continuation(w, c);
  put_error(w, e);
}

void encode_forwarded(std::string& out, std::uint64_t call_id) {
  put_type(out, FrameType::kForwarded);
  Writer w(&out);
  w.varint(call_id);
}

Result<Frame> decode_frame(std::string_view bytes) {
  if (bytes.empty()) return Error(Errc::kProtocol, "empty frame");
  if (bytes.size() > kMaxFrameSize) {
    return Error(Errc::kProtocol, "frame of " + std::to_string(bytes.size()) +
                                      " bytes exceeds the limit of " +
                                      std::to_string(kMaxFrameSize));
  }
  Frame f;
  auto type = static_cast<std::uint8_t>(bytes[0]);
  if (type < 1 || type > 14) {
    return Error(Errc::kProtocol, "unknown frame type " + std::to_string(type));
  }
  f.type = static_cast<FrameType>(type);
  Reader r(bytes.substr(1));
  switch (f.type) {
    case FrameType::kCall: {
      PEERS_TRY_ASSIGN(f.call.call_id, r.varint());
      PEERS_TRY_ASSIGN(f.call.method_id, r.unsigned_int<std::uint32_t>());
      PEERS_TRY_ASSIGN(f.call.deadline_ms, r.varint());
      std::uint64_t flags = 0;
      PEERS_TRY_ASSIGN(flags, r.varint());
      if (flags > 1) return r.error("unknown CALL flags " + std::to_string(flags));
      f.call.has_continuation = flags == 1;
      if (f.call.has_continuation) PEERS_TRY_ASSIGN(f.call.continuation, get_continuation(r));
      f.id = f.call.call_id;
      f.payload = rest(r);
      break;
    }
    case FrameType::kReply:
    case FrameType::kData:
      PEERS_TRY_ASSIGN(f.id, r.varint());
      f.payload = rest(r);
      break;
    case FrameType::kEvent: {
      std::uint32_t m = 0;
      PEERS_TRY_ASSIGN(m, r.unsigned_int<std::uint32_t>());
      f.id = m;
      f.payload = rest(r);
      break;
    }
    case FrameType::kError:
      PEERS_TRY_ASSIGN(f.id, r.varint());
      PEERS_TRY_ASSIGN(f.error, get_error(r));
      break;
    case FrameType::kCredit:
      PEERS_TRY_ASSIGN(f.id, r.varint());
      PEERS_TRY_ASSIGN(f.number, r.varint());
      break;
    case FrameType::kCancel:
    case FrameType::kForwarded:
      PEERS_TRY_ASSIGN(f.id, r.varint());
      break;
    case FrameType::kPing:
    case FrameType::kPong:
      PEERS_TRY_ASSIGN(f.number, r.fixed64());
      break;
    case FrameType::kGoaway:
      PEERS_TRY_ASSIGN(f.id, r.varint());
      f.payload = rest(r);
      break;
    case FrameType::kCloseChannel: {
      PEERS_TRY_ASSIGN(f.id, r.varint());
      std::uint64_t has = 0;
      PEERS_TRY_ASSIGN(has, r.varint());
      if (has > 1) return r.error("bad CLOSE_CHANNEL flag");
      f.has_error = has == 1;
      if (f.has_error) PEERS_TRY_ASSIGN(f.error, get_error(r));
      break;
    }
    case FrameType::kContReply:
      PEERS_TRY_ASSIGN(f.continuation, get_continuation(r));
      f.payload = rest(r);
      break;
    case FrameType::kContError:
      PEERS_TRY_ASSIGN(f.continuation, get_continuation(r));
      PEERS_TRY_ASSIGN(f.error, get_error(r));
      break;
  }
  if (!r.at_end()) {
    return r.error(std::to_string(r.remaining()) + " trailing bytes in " +
                   std::string(frame_type_name(f.type)) + " frame");
  }
  return f;
}

}  // namespace peers::wire
