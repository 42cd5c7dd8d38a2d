// The generated RPC stubs of testdata/idl/rpc_stub.pidl between live nodes on
// loopback: every kind of method, typed errors, data channels, events, blocking
// calls, a tail-forward through a middle node, and bytes that do not decode.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <cstdio>
#include <mutex>

#include "lib/rpc/node.h"
#include "lib/rpc/rpc_test_util.h"
#include "testdata/idl/rpc_stub.pidl.rpc.h"

namespace peers::idltest::stub {
namespace {

namespace asio = boost::asio;
using rpc::Answer;
using rpc::CallContext;
using rpc::Connection;
using rpc::Node;
using rpc::NodeOptions;
using rpc::Task;
using rpc::testing::Kernel;
using namespace std::chrono_literals;

constexpr std::uint32_t kRepeatLimit = 3;
// The data test: 1 MiB each way.
constexpr std::uint32_t kFeedChunks = 64, kFeedBytes = 16384;

std::string payload(std::uint32_t i, std::uint32_t bytes) {
  return std::string(bytes, static_cast<char>('a' + i % 26));
}

// Reads a channel to its end.
Task<std::string> read_all(std::shared_ptr<rpc::DataChannel> ch) {
  std::string all;
  for (;;) {
    auto op = ch->read();
    std::optional<std::string> chunk = co_await std::move(op);
    if (!chunk) break;
    all += *chunk;
  }
  co_return all;
}

class TestExerciser : public ExerciserServer {
 public:
  explicit TestExerciser(std::string who) : who_(std::move(who)) {}

  Task<Answer<EchoReply>> echo(CallContext& ctx, EchoRequest request) override {
    if (next) {
      forwards.fetch_add(1);
      co_return ctx.forward<Exerciser::Echo>(next, request);
    }
    if (request.repeat > kRepeatLimit) throw TooMuch("too many repeats", kRepeatLimit, "repeat");
    EchoReply reply;
    for (std::uint32_t i = 0; i < request.repeat; ++i) reply.text += request.text;
    reply.served_by = who_;
    co_return reply;
  }

  Task<Answer<Count>> count(CallContext& ctx) override {
    Count c;
    c.notes = notes.load();
    c.ticks = ticks.load();
    c.pings = pings.load();
    co_return c;
  }

  Task<void> note(CallContext& ctx, Note request) override {
    record(std::move(request.text));
    co_return;
  }

  Task<void> ping(CallContext& ctx) override {
    pings.fetch_add(1);
    co_return;
  }

  // Echoes the client's payloads uppercased, then closes its side.
  Task<FeedReply> feed(CallContext& ctx, FeedRequest request) override {
    std::shared_ptr<rpc::DataChannel> ch = ctx.channel();
    if (!ch) throw Error(Errc::kInvalidArgument, "feed without a channel");
    auto echo_back = [ch]() -> Task<void> {
      try {
        for (;;) {
          auto op = ch->read();
          std::optional<std::string> chunk = co_await std::move(op);
          if (!chunk) break;
          for (char& c : *chunk) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          auto write = ch->write(std::move(*chunk));
          co_await std::move(write);
        }
        ch->close();
      } catch (const Error& e) {
        ch->fail(e);
      }
    };
    auto exec = co_await asio::this_coro::executor;
    asio::co_spawn(exec, std::move(echo_back), asio::detached);
    FeedReply reply;
    reply.accepted = request.chunks;
    co_return reply;
  }

  Task<void> drain(CallContext& ctx, FeedRequest request) override {
    std::shared_ptr<rpc::DataChannel> ch = ctx.channel();
    if (!ch) throw Error(Errc::kInvalidArgument, "drain without a channel");
    auto writer = [ch, request]() -> Task<void> {
      for (std::uint32_t i = 0; i < request.chunks; ++i) {
        auto write = ch->write(payload(i, request.chunk_bytes));
        co_await std::move(write);
      }
      ch->close();
    };
    auto exec = co_await asio::this_coro::executor;
    asio::co_spawn(exec, std::move(writer), asio::detached);
  }

  Task<void> notify(CallContext& ctx, Note event) override {
    record(std::move(event.text));
    co_return;
  }

  Task<void> tick(CallContext& ctx) override {
    ticks.fetch_add(1);
    co_return;
  }

  Task<Answer<common::Point>> move(CallContext& ctx, common::Point request) override {
    if (request.x < 0) throw common::Busy("no negative moves", 250);
    common::Point p;
    p.x = request.x + 1;
    p.y = request.y + 2;
    co_return p;
  }

  std::vector<std::string> texts() {
    std::lock_guard lock(mu_);
    return texts_;
  }

  std::shared_ptr<Connection> next;  // set: echo forwards there
  std::atomic<int> forwards{0};
  std::atomic<std::uint64_t> notes{0}, ticks{0}, pings{0};

 private:
  void record(std::string text) {
    std::lock_guard lock(mu_);
    texts_.push_back(std::move(text));
    notes.fetch_add(1);
  }

  std::string who_;
  std::mutex mu_;
  std::vector<std::string> texts_;
};

// A server node serving TestExerciser and a client node connected to it.
struct Pair {
  explicit Pair(Kernel& k, NodeOptions opts = {})
      : server(k.executor(), Identity::generate(), opts),
        client(k.executor(), Identity::generate(), opts) {
    svc = std::make_shared<TestExerciser>("server");
    server.add_service(svc);
    std::uint16_t port = server.listen("127.0.0.1:0").value();
    client.listen("127.0.0.1:0").value();
    conn = k.run(client.connect("127.0.0.1:" + std::to_string(port), server.id()));
  }
  Node server, client;
  std::shared_ptr<TestExerciser> svc;
  std::shared_ptr<Connection> conn;
};

EchoRequest echo_request(std::string text, std::uint32_t repeat) {
  EchoRequest r;
  r.text = std::move(text);
  r.repeat = repeat;
  return r;
}

TEST(GeneratedRpc, ServerNamesItsInterfaceAndMethods) {
  TestExerciser svc("x");
  EXPECT_EQ(svc.name(), "peers.idltest.stub.Exerciser");
  std::vector<rpc::MethodInfo> methods = svc.methods();
  ASSERT_EQ(methods.size(), 9u);
  EXPECT_EQ(methods[0].id, Exerciser::Echo::kId);
  EXPECT_EQ(methods[0].name, "peers.idltest.stub.Exerciser.echo");
  EXPECT_FALSE(methods[0].oneway);
  EXPECT_FALSE(methods[0].data);
  EXPECT_EQ(methods[4].name, "peers.idltest.stub.Exerciser.feed");
  EXPECT_TRUE(methods[4].data);
  EXPECT_EQ(methods[6].name, "peers.idltest.stub.Exerciser.notify");
  EXPECT_TRUE(methods[6].oneway);
  EXPECT_EQ(methods[8].id, Exerciser::Move::kId);
}

TEST(GeneratedRpc, RequestResponseRoundTrip) {
  Kernel k;
  Pair p(k);
  ExerciserClient client(p.conn);
  EXPECT_EQ(client.connection(), p.conn);
  EchoReply reply = k.run(client.echo(echo_request("ab", 3)));
  EXPECT_EQ(reply.text, "ababab");
  EXPECT_EQ(reply.served_by, "server");

  common::Point from;
  from.x = 10;
  from.y = 20;
  common::Point to = k.run(client.move(from));
  EXPECT_EQ(to.x, 11);
  EXPECT_EQ(to.y, 22);
}

TEST(GeneratedRpc, VoidRequestAndVoidResponse) {
  Kernel k;
  Pair p(k);
  ExerciserClient client(p.conn);
  k.run(client.ping());
  k.run(client.ping());
  Note n;
  n.text = "hello";
  k.run(client.note(n));
  Count c = k.run(client.count());
  EXPECT_EQ(c.pings, 2u);
  EXPECT_EQ(c.notes, 1u);
  EXPECT_EQ(p.svc->texts(), std::vector<std::string>{"hello"});
}

TEST(GeneratedRpc, TypedErrorReachesTheClientAsItsClassWithItsFields) {
  Kernel k;
  Pair p(k);
  ExerciserClient client(p.conn);
  try {
    k.run(client.echo(echo_request("x", 100)));
    FAIL() << "no error";
  } catch (const TooMuch& e) {
    EXPECT_EQ(e.limit, kRepeatLimit);
    EXPECT_EQ(e.item, "repeat");
    EXPECT_EQ(e.message(), "too many repeats");
    EXPECT_EQ(e.code(), Errc::kApplication);
    EXPECT_EQ(e.type_name(), "peers.idltest.stub.TooMuch");
    EXPECT_EQ(e.origin(), p.server.id().to_string());
    EXPECT_EQ(e.call_path(), "peers.idltest.stub.Exerciser.echo");
  }
  // An error of an imported package, too.
  common::Point back;
  back.x = -1;
  try {
    k.run(client.move(back));
    FAIL() << "no error";
  } catch (const common::Busy& e) {
    EXPECT_EQ(e.retry_after_ms, 250u);
    EXPECT_EQ(e.message(), "no negative moves");
  }
}

TEST(GeneratedRpc, DataMethodStreamsBytesBothWays) {
  Kernel k;
  NodeOptions opts;
  opts.channel_window = 64 * 1024;  // small: both sides wait for credit
  Pair p(k, opts);
  ExerciserClient client(p.conn);
  auto run = [&]() -> Task<std::string> {
    FeedRequest req;
    req.chunks = kFeedChunks;
    req.chunk_bytes = kFeedBytes;
    auto op = client.feed(req);
    std::pair<FeedReply, std::shared_ptr<rpc::DataChannel>> got = co_await std::move(op);
    EXPECT_EQ(got.first.accepted, kFeedChunks);
    std::shared_ptr<rpc::DataChannel> ch = got.second;
    auto writer = [ch]() -> Task<void> {
      for (std::uint32_t i = 0; i < kFeedChunks; ++i) {
        auto write = ch->write(payload(i, kFeedBytes));
        co_await std::move(write);
      }
      ch->close();
    };
    auto exec = co_await asio::this_coro::executor;
    asio::co_spawn(exec, std::move(writer), asio::detached);
    auto read = read_all(ch);
    co_return co_await std::move(read);
  };
  std::string echoed = k.run(run());
  std::string want;
  for (std::uint32_t i = 0; i < kFeedChunks; ++i) {
    want += std::string(kFeedBytes, static_cast<char>('A' + i % 26));
  }
  EXPECT_EQ(echoed.size(), want.size());
  EXPECT_TRUE(echoed == want);
}

TEST(GeneratedRpc, DataMethodWithVoidResultGivesTheChannel) {
  Kernel k;
  Pair p(k);
  ExerciserClient client(p.conn);
  auto run = [&]() -> Task<std::string> {
    FeedRequest req;
    req.chunks = 5;
    req.chunk_bytes = 1000;
    auto op = client.drain(req);
    std::shared_ptr<rpc::DataChannel> ch = co_await std::move(op);
    auto read = read_all(ch);
    co_return co_await std::move(read);
  };
  std::string got = k.run(run());
  std::string want;
  for (std::uint32_t i = 0; i < 5; ++i) want += payload(i, 1000);
  EXPECT_TRUE(got == want);
}

TEST(GeneratedRpc, OnewayEventsArriveInOrder) {
  Kernel k;
  Pair p(k);
  ExerciserClient client(p.conn);
  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    Note n;
    n.text = "note " + std::to_string(i);
    sent.push_back(n.text);
    client.notify(n);
    if (i % 5 == 0) client.tick();
  }
  // A call after the events is served after them (one connection, in order).
  Count c = k.run(client.count());
  EXPECT_EQ(c.notes, 20u);
  EXPECT_EQ(c.ticks, 4u);
  EXPECT_EQ(p.svc->texts(), sent);
}

TEST(GeneratedRpc, BlockingCallsFromTheTestThread) {
  Kernel k;
  Pair p(k);
  ExerciserClient client(p.conn);
  EXPECT_EQ(client.echo_sync(echo_request("s", 2)).text, "ss");
  client.ping_sync();
  Note n;
  n.text = "sync";
  client.note_sync(n);
  Count c = client.count_sync();
  EXPECT_EQ(c.pings, 1u);
  EXPECT_EQ(c.notes, 1u);
  EXPECT_THROW(client.echo_sync(echo_request("s", 9)), TooMuch);
}

TEST(GeneratedRpc, TaskOutlivesTheClientThatMadeIt) {
  Kernel k;
  Pair p(k);
  Task<EchoReply> task = ExerciserClient(p.conn).echo(echo_request("late", 1));
  EXPECT_EQ(k.run(std::move(task)).text, "late");
}

TEST(GeneratedRpc, TailForwardThroughAMiddleNode) {
  Kernel k;
  // a -> b -> c: b's handler forwards to c; c answers back through b.
  Node a(k.executor(), Identity::generate());
  Node b(k.executor(), Identity::generate());
  Node c(k.executor(), Identity::generate());
  auto sa = std::make_shared<TestExerciser>("a");
  auto sb = std::make_shared<TestExerciser>("b");
  auto sc = std::make_shared<TestExerciser>("c");
  a.add_service(sa);
  b.add_service(sb);
  c.add_service(sc);
  a.listen("127.0.0.1:0").value();
  std::uint16_t pb = b.listen("127.0.0.1:0").value();
  std::uint16_t pc = c.listen("127.0.0.1:0").value();
  sb->next = k.run(b.connect("127.0.0.1:" + std::to_string(pc), c.id()));
  auto to_b = k.run(a.connect("127.0.0.1:" + std::to_string(pb), b.id()));
  ExerciserClient client(to_b);
  EchoReply reply = k.run(client.echo(echo_request("fwd", 2)));
  EXPECT_EQ(reply.text, "fwdfwd");
  EXPECT_EQ(reply.served_by, "c");
  EXPECT_EQ(sb->forwards.load(), 1);
  EXPECT_EQ(a.find(c.id()), nullptr);  // nobody dialed a: the answer came back through b

  // A typed error raised at the end of the chain reaches a as its class.
  try {
    k.run(client.echo(echo_request("fwd", 50)));
    FAIL() << "no error";
  } catch (const TooMuch& e) {
    EXPECT_EQ(e.limit, kRepeatLimit);
    EXPECT_EQ(e.origin(), c.id().to_string());
  }
}

TEST(GeneratedRpc, BadArgumentsAreAProtocolErrorAndTheNodeCarriesOn) {
  Kernel k;
  Pair p(k);
  const std::string garbage("\xff\xff\xff", 3);  // a key varint that never ends
  try {
    k.run(p.conn->call(Exerciser::Echo::kId, garbage));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kProtocol);
    EXPECT_EQ(e.message().rfind("bad arguments for peers.idltest.stub.Exerciser.echo: ", 0), 0u)
        << e.message();
  }
  // An event that does not decode is dropped (and logged) by the server.
  p.conn->send_event(Exerciser::Notify::kId, garbage);
  ExerciserClient client(p.conn);
  EXPECT_EQ(k.run(client.echo(echo_request("ok", 1))).text, "ok");
  EXPECT_EQ(k.run(client.count()).notes, 0u);
  EXPECT_TRUE(p.conn->is_open());
}

// Answers every call with bytes that are not an EchoReply.
struct GarbageService : rpc::Service {
  std::string_view name() const override { return Exerciser::kName; }
  std::vector<rpc::MethodInfo> methods() const override {
    return {{Exerciser::Echo::kId, Exerciser::Echo::kFullName}};
  }
  Task<Answer<std::string>> call(CallContext&, std::uint32_t, std::string) override {
    co_return std::string("\x0a\x09short", 7);  // field 1: 9 bytes claimed, 5 there
  }
  Task<void> event(CallContext&, std::uint32_t, std::string) override { co_return; }
};

TEST(GeneratedRpc, ReplyThatDoesNotDecodeIsAProtocolError) {
  Kernel k;
  Node server(k.executor(), Identity::generate());
  Node client(k.executor(), Identity::generate());
  server.add_service(std::make_shared<GarbageService>());
  std::uint16_t port = server.listen("127.0.0.1:0").value();
  auto conn = k.run(client.connect("127.0.0.1:" + std::to_string(port), server.id()));
  ExerciserClient stub(conn);
  try {
    k.run(stub.echo(echo_request("x", 1)));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kProtocol);
    EXPECT_EQ(e.message().rfind("bad reply from peers.idltest.stub.Exerciser.echo: ", 0), 0u)
        << e.message();
  }
  EXPECT_THROW(stub.echo_sync(echo_request("x", 1)), Error);
}

std::string hex_id(std::uint32_t id) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", id);
  return hex;
}

// Awaits svc.call() (or event()) and drops its answer.
Task<void> dispatch(ExerciserServer& svc, CallContext& ctx, std::uint32_t id, bool event) {
  if (event) {
    auto op = svc.event(ctx, id, std::string());
    co_await std::move(op);
  } else {
    auto op = svc.call(ctx, id, std::string());
    co_await std::move(op);
  }
}

TEST(GeneratedRpc, GeneratedDispatchRejectsIdsOfOtherKinds) {
  Kernel k;
  TestExerciser svc("x");
  rpc::MethodInfo info{Exerciser::Notify::kId, Exerciser::Notify::kFullName, true};
  CallContext ctx(nullptr, info, std::chrono::steady_clock::time_point::max());
  auto expect_unknown = [&](std::uint32_t id, bool event, const std::string& message) {
    try {
      k.run(dispatch(svc, ctx, id, event));
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::kUnknownMethod);
      EXPECT_EQ(e.message(), message);
    }
  };
  const std::string prefix = "peers.idltest.stub.Exerciser has no method ";
  // A one-way method's id is not a call; a call's id is not an event.
  expect_unknown(Exerciser::Notify::kId, false, prefix + hex_id(Exerciser::Notify::kId));
  expect_unknown(Exerciser::Echo::kId, true, prefix + hex_id(Exerciser::Echo::kId));
  expect_unknown(0x1234, false, prefix + "0x00001234");
}

}  // namespace
}  // namespace peers::idltest::stub
