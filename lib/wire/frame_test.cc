#include "lib/wire/frame.h"

#include <gtest/gtest.h>

namespace peers::wire {
namespace {

TEST(Frame, CallRoundTripsWithContinuation) {
  CallHeader h;
  h.call_id = 77;
  h.method_id = 0xdeadbeef;
  h.deadline_ms = 1500;
  h.has_continuation = true;
  h.continuation = {"vt1abc", "127.0.0.1:7000", 5, std::string(16, 't'), 2};
  std::string out;
  encode_call(out, h, "ARGS");
  auto f = decode_frame(out);
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_EQ(f->type, FrameType::kCall);
  EXPECT_EQ(f->call.call_id, 77u);
  EXPECT_EQ(f->call.method_id, 0xdeadbeefu);
  EXPECT_EQ(f->call.deadline_ms, 1500u);
  ASSERT_TRUE(f->call.has_continuation);
  EXPECT_EQ(f->call.continuation.caller_addr, "127.0.0.1:7000");
  EXPECT_EQ(f->call.continuation.hops, 2u);
  EXPECT_EQ(f->payload, "ARGS");
}

TEST(Frame, ErrorRoundTrips) {
  ErrorBody e{Errc::kApplication, "vt.overlay.Full", "no room", "vt1x", "Overlay.join", "\x08\x03"};
  std::string out;
  encode_error(out, 9, e);
  auto f = decode_frame(out);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->id, 9u);
  EXPECT_EQ(f->error.code, Errc::kApplication);
  EXPECT_EQ(f->error.type_name, "vt.overlay.Full");
  EXPECT_EQ(f->error.message, "no room");
  EXPECT_EQ(f->error.fields, "\x08\x03");
}

TEST(Frame, DataPayloadIsUntouched) {
  std::string out;
  encode_data_header(out, 3);
  std::string payload(16384, '\0');
  payload[100] = 'x';
  out += payload;
  auto f = decode_frame(out);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, FrameType::kData);
  EXPECT_EQ(f->id, 3u);
  EXPECT_EQ(f->payload, payload);
}

TEST(Frame, SmallFramesRoundTrip) {
  std::string a, b, c, d, e;
  encode_credit(a, 4, 65536);
  encode_cancel(b, 12);
  encode_ping(c, FrameType::kPong, 0x0102030405060708ull);
  encode_goaway(d, 40, "shutting down");
  ErrorBody err{Errc::kCancelled, "peers.cancelled", "bye", "", "", ""};
  encode_close_channel(e, 6, &err);
  EXPECT_EQ(decode_frame(a)->number, 65536u);
  EXPECT_EQ(decode_frame(b)->id, 12u);
  EXPECT_EQ(decode_frame(c)->number, 0x0102030405060708ull);
  EXPECT_EQ(decode_frame(d)->payload, "shutting down");
  auto fe = decode_frame(e);
  ASSERT_TRUE(fe);
  EXPECT_TRUE(fe->has_error);
  EXPECT_EQ(fe->error.message, "bye");
}

TEST(Frame, UnknownTypeIsRejected) {
  auto f = decode_frame(std::string("\x63\x00", 2));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), Errc::kProtocol);
  EXPECT_EQ(f.error().message(), "unknown frame type 99");
  EXPECT_FALSE(decode_frame(""));
}

TEST(Frame, TruncatedFramesAreRejected) {
  std::string out;
  encode_error(out, 9, ErrorBody{Errc::kTimeout, "peers.timeout", "late", "", "", ""});
  for (std::size_t n = 1; n < out.size(); ++n) {
    EXPECT_FALSE(decode_frame(std::string_view(out).substr(0, n))) << n;
  }
}

TEST(Frame, TrailingBytesAreRejected) {
  std::string out;
  encode_cancel(out, 1);
  out += "junk";
  auto f = decode_frame(out);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message().find("trailing bytes in CANCEL"), std::string::npos);
}

TEST(Frame, OversizedFrameIsRejected) {
  std::string big(kMaxFrameSize + 1, '\x05');
  EXPECT_FALSE(decode_frame(big));
}

TEST(Frame, ForwardHopLimit) {
  CallHeader h;
  h.has_continuation = true;
  h.continuation.hops = kMaxForwardHops + 1;
  std::string out;
  encode_call(out, h, "");
  EXPECT_FALSE(decode_frame(out));
}

}  // namespace
}  // namespace peers::wire
