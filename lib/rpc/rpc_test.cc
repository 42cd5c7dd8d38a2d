#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include "lib/rpc/internal/punch.h"
#include "lib/rpc/rpc_test_util.h"

namespace peers::rpc {
namespace {

namespace asio = boost::asio;
using testing::BlackHole;
using testing::Kernel;
using testing::TooBig;
using namespace std::chrono_literals;

// Method ids of the hand-written test interface.
enum : std::uint32_t {
  kEcho = 0x1001,
  kFail = 0x1002,
  kSlow = 0x1003,
  kAskBack = 0x1004,
  kWhoAmI = 0x1005,
  kRelay = 0x1006,
  kTell = 0x1007,    // oneway
  kStream = 0x1008,  // data
  kSleepMs = 0x1009,
  kCrash = 0x100a,
  kCollect = 0x100b,     // data: the server reads the channel to its end
  kLateStream = 0x100c,  // data: answers after N ms, then writes until a write fails
};

std::string u64_body(std::uint64_t v) {
  std::string s;
  wire::Writer w(&s);
  w.field_varint(1, v);
  return s;
}

std::uint64_t body_u64(std::string_view s) {
  wire::Reader r(s);
  if (r.at_end()) return 0;
  r.key().value();
  return r.varint().value();
}

struct TestService : Service {
  std::string_view name() const override { return "test.Test"; }
  std::vector<MethodInfo> methods() const override {
    return {{kEcho, "test.Test.echo"},
            {kFail, "test.Test.fail"},
            {kSlow, "test.Test.slow"},
            {kAskBack, "test.Test.ask_back"},
            {kWhoAmI, "test.Test.who_am_i"},
            {kRelay, "test.Test.relay"},
            {kTell, "test.Test.tell", true},
            {kStream, "test.Test.stream", false, true},
            {kSleepMs, "test.Test.sleep_ms"},
            {kCrash, "test.Test.crash"},
            {kCollect, "test.Test.collect", false, true},
            {kLateStream, "test.Test.late_stream", false, true}};
  }

  Task<Answer<std::string>> call(CallContext& ctx, std::uint32_t m, std::string args) override {
    switch (m) {
      case kEcho:
        co_return args;
      case kFail:
        throw TooBig("limit exceeded", 42);
      case kSleepMs: {
        asio::steady_timer t(co_await asio::this_coro::executor,
                             std::chrono::milliseconds(body_u64(args)));
        auto wait = t.async_wait(asio::use_awaitable);
        co_await std::move(wait);
        co_return args;
      }
      case kSlow: {
        // Waits until the caller cancels (deadline) and records it.
        asio::steady_timer t(co_await asio::this_coro::executor, 60s);
        auto wait = t.async_wait(asio::as_tuple(asio::use_awaitable));
        auto [ec] = co_await std::move(wait);
        if (ec) cancelled.fetch_add(1);
        co_return std::string();
      }
      case kAskBack: {
        // Reverse channel call: ask the caller on the same connection.
        auto ask = ctx.connection()->call(kWhoAmI, "");
        std::string answer = co_await std::move(ask);
        co_return "caller says " + answer;
      }
      case kWhoAmI:
        co_return my_name;
      case kRelay: {
        if (!next) {
          if (on_reached) on_reached();
          if (end_delay_ms > 0) {
            asio::steady_timer t(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(end_delay_ms));
            auto wait = t.async_wait(asio::use_awaitable);
            co_await std::move(wait);
          }
          co_return "end of chain at " + my_name;
        }
        forwards.fetch_add(1);
        if (on_forward) on_forward();
        co_return Forward{next, kRelay, args};
      }
      case kStream: {
        auto ch = ctx.channel();
        std::uint64_t n = body_u64(args);
        auto writer = [ch, n]() -> Task<void> {
          for (std::uint64_t i = 0; i < n; ++i) {
            auto write = ch->write(std::string(16384, static_cast<char>('a' + i % 26)));
            co_await std::move(write);
          }
          ch->close();
        };
        asio::co_spawn(co_await asio::this_coro::executor, std::move(writer), asio::detached);
        co_return u64_body(n);
      }
      case kLateStream: {
        // Answers late even when the caller cancels (a node busy elsewhere
        // that gets to the call after its deadline).
        asio::steady_timer t(co_await asio::this_coro::executor,
                             std::chrono::milliseconds(body_u64(args)));
        auto wait = t.async_wait(asio::as_tuple(asio::use_awaitable));
        co_await std::move(wait);
        auto ch = ctx.channel();
        auto writer = [this, ch]() -> Task<void> {
          try {
            for (;;) {
              auto write = ch->write(std::string(16384, 'x'));
              co_await std::move(write);
            }
          } catch (const Error& e) {
            stream_failed.set_value(e.message());
          }
        };
        asio::co_spawn(co_await asio::this_coro::executor, std::move(writer), asio::detached);
        co_return std::string();
      }
      case kCrash:
        throw std::runtime_error("handler bug");
      case kCollect: {
        // Payloads are "<writer byte><8-byte sequence number>...": counts
        // them per writer and checks each writer's own order.
        auto ch = ctx.channel();
        auto reader = [this, ch]() -> Task<void> {
          std::map<char, std::uint64_t> next;
          bool in_order = true;
          for (;;) {
            auto read = ch->read();
            auto p = co_await std::move(read);
            if (!p) break;
            std::uint64_t seq = 0;
            std::memcpy(&seq, p->data() + 1, sizeof seq);
            if (seq != next[(*p)[0]]++) in_order = false;
          }
          collected.set_value({std::move(next), in_order});
        };
        asio::co_spawn(co_await asio::this_coro::executor, std::move(reader), asio::detached);
        co_return std::string();
      }
    }
    throw Error(Errc::kUnknownMethod, "no such method");
  }

  Task<void> event(CallContext& ctx, std::uint32_t m, std::string args) override {
    std::lock_guard lock(mu);
    told.push_back(body_u64(args));
    co_return;
  }

  std::string my_name = "server";
  std::shared_ptr<Connection> next;
  std::function<void()> on_forward;
  std::function<void()> on_reached;
  int end_delay_ms = 0;
  std::atomic<int> cancelled{0};
  std::atomic<int> forwards{0};
  std::mutex mu;
  std::vector<std::uint64_t> told;
  std::promise<std::pair<std::map<char, std::uint64_t>, bool>> collected;
  std::promise<std::string> stream_failed;
};

struct Pair {
  explicit Pair(Kernel& k, NodeOptions opts = {})
      : server(k.executor(), Identity::generate(), opts),
        client(k.executor(), Identity::generate(), opts) {
    server_svc = std::make_shared<TestService>();
    client_svc = std::make_shared<TestService>();
    client_svc->my_name = "client";
    server.add_service(server_svc);
    client.add_service(client_svc);
    port = server.listen("127.0.0.1:0").value();
    client.listen("127.0.0.1:0").value();
    conn = k.run(client.connect("127.0.0.1:" + std::to_string(port), server.id()));
  }
  Node server, client;
  std::shared_ptr<TestService> server_svc, client_svc;
  std::uint16_t port = 0;
  std::shared_ptr<Connection> conn;
};

TEST(Rpc, CallReturnsResultAndKnowsPeer) {
  Kernel k;
  Pair p(k);
  EXPECT_EQ(p.conn->peer(), p.server.id());
  std::string out = k.run(p.conn->call(kEcho, "hello"));
  EXPECT_EQ(out, "hello");
  EXPECT_NE(p.conn->cipher(), Cipher::kPlain);
}

TEST(Rpc, BlockingCallFromAnotherThread) {
  Kernel k;
  Pair p(k);
  EXPECT_EQ(p.conn->call_sync(kEcho, "sync"), "sync");
}

TEST(Rpc, ManyOutstandingCallsCompleteOutOfOrder) {
  Kernel k;
  Pair p(k);
  std::vector<std::future<std::string>> fs;
  for (int i = 0; i < 50; ++i) {
    fs.push_back(asio::co_spawn(k.executor(), p.conn->call(kSleepMs, u64_body(200 - i * 3)),
                                asio::use_future));
  }
  for (int i = 0; i < 50; ++i) EXPECT_EQ(body_u64(fs[i].get()), 200u - i * 3);
}

TEST(Rpc, ReverseChannelCallOnSameConnection) {
  Kernel k;
  Pair p(k);
  EXPECT_EQ(k.run(p.conn->call(kAskBack, "")), "caller says client");
  EXPECT_EQ(p.server.connections().size(), 1u);
  EXPECT_EQ(p.client.connections().size(), 1u);
}

TEST(Rpc, ACallerWhoseHandlerThrowsDoesNotStopTheConnection) {
  // A reply resumes its caller inside the connection's read loop; whatever
  // the caller's completion handler throws must leave io_context::run() (as
  // from any handler), not end the read loop.
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::atomic<int> escaped{0};
  std::thread runner([&] {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception&) {
        escaped.fetch_add(1);
      }
    }
  });
  {
    Node server(io.get_executor(), Identity::generate());
    Node client(io.get_executor(), Identity::generate());
    server.add_service(std::make_shared<TestService>());
    auto port = server.listen("127.0.0.1:0").value();
    auto conn =
        asio::co_spawn(io, client.connect("127.0.0.1:" + std::to_string(port)), asio::use_future)
            .get();
    std::promise<void> handled;
    asio::co_spawn(io, conn->call(kFail, ""), [&handled](std::exception_ptr e, std::string) {
      handled.set_value();
      if (e) std::rethrow_exception(e);
    });
    handled.get_future().get();
    // The same connection still answers.
    auto echo = asio::co_spawn(io, conn->call(kEcho, "still here"), asio::use_future);
    ASSERT_EQ(echo.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(echo.get(), "still here");
    EXPECT_EQ(escaped.load(), 1);
    client.close();
    server.close();
  }
  guard.reset();
  runner.join();
}

TEST(Rpc, NodeNeedsAnIoContextExecutor) {
  asio::thread_pool pool(1);
  try {
    Node node(pool.get_executor(), Identity::generate());
    FAIL() << "a Node accepted a thread_pool's executor";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kInvalidArgument);
  }
  asio::io_context io;
  EXPECT_NO_THROW(Node(io.get_executor(), Identity::generate()));
  auto tracked = asio::prefer(io.get_executor(), asio::execution::outstanding_work.tracked);
  EXPECT_NO_THROW(Node(tracked, Identity::generate()));
}

TEST(Rpc, TypedErrorReachesCallerAsSameType) {
  wire::register_error_type(TooBig::kTypeName,
                            [](std::string_view fields, std::string msg, std::string origin) {
                              wire::Reader r(fields);
                              std::uint32_t limit = 0;
                              while (!r.at_end()) {
                                auto key = r.key();
                                if (!key) break;
                                if (key->field == 1)
                                  limit = static_cast<std::uint32_t>(r.varint().value());
                                else if (!r.skip(key->kind))
                                  break;
                              }
                              TooBig e(std::move(msg), limit);
                              e.set_origin(std::move(origin));
                              return std::make_exception_ptr(e);
                            });
  Kernel k;
  Pair p(k);
  try {
    k.run(p.conn->call(kFail, ""));
    FAIL() << "no error";
  } catch (const TooBig& e) {
    EXPECT_EQ(e.limit, 42u);
    EXPECT_EQ(e.message(), "limit exceeded");
    EXPECT_EQ(e.origin(), p.server.id().to_string());
    EXPECT_EQ(e.call_path(), "test.Test.fail");
  }
  // The connection is still fine.
  EXPECT_EQ(k.run(p.conn->call(kEcho, "x")), "x");
}

TEST(Rpc, HandlerExceptionBecomesInternalErrorNotACrash) {
  Kernel k;
  Pair p(k);
  try {
    k.run(p.conn->call(kCrash, ""));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kInternal);
    EXPECT_NE(e.message().find("handler bug"), std::string::npos);
  }
  EXPECT_EQ(k.run(p.conn->call(kEcho, "still")), "still");
}

TEST(Rpc, UnknownMethodIsATypedError) {
  Kernel k;
  Pair p(k);
  try {
    k.run(p.conn->call(0x7777, ""));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kUnknownMethod);
    EXPECT_EQ(e.message(), "unknown method 0x00007777");
  }
  EXPECT_EQ(k.run(p.conn->call(kEcho, "ok")), "ok");
}

TEST(Rpc, ShortDeadlineBehindALongOneStillFiresOnTime) {
  // One timer per node watches the earliest deadline: a call with a short
  // timeout made while a long one is pending must re-arm it, not wait.
  Kernel k;
  Pair p(k);
  auto long_call =
      asio::co_spawn(k.io(), p.conn->call(kSlow, "", CallOptions{60s}), asio::use_future);
  auto started = std::chrono::steady_clock::now();
  try {
    k.run(p.conn->call(kSlow, "", CallOptions{300ms}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kTimeout);
    EXPECT_NE(e.message().find("timed out after 300 ms"), std::string::npos) << e.message();
  }
  // Generous: the point is "not after the 60 s one".
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  EXPECT_EQ(long_call.wait_for(0s), std::future_status::timeout);  // still pending
  p.conn->close(Error(Errc::kUnavailable, "test over"));
  EXPECT_THROW(long_call.get(), Error);
}

TEST(Rpc, ATimeoutTooLongToAddIsForever) {
  // now() + Duration::max() would overflow into the past and time the call
  // out at once; the deadline saturates instead.
  Kernel k;
  Pair p(k);
  EXPECT_EQ(k.run(p.conn->call(kEcho, "patient", CallOptions{Duration::max()})), "patient");
}

TEST(Rpc, DeadlineFailsCallAndCancelsCallee) {
  Kernel k;
  Pair p(k);
  try {
    k.run(p.conn->call(kSlow, "", CallOptions{200ms}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kTimeout);
  }
  for (int i = 0; i < 500 && p.server_svc->cancelled.load() == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(p.server_svc->cancelled.load(), 1);
}

TEST(Rpc, EventsArriveInOrder) {
  Kernel k;
  Pair p(k);
  for (std::uint64_t i = 1; i <= 100; ++i) p.conn->send_event(kTell, u64_body(i));
  // A call after the events completes after them (same connection, in order).
  k.run(p.conn->call(kEcho, ""));
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(p.server_svc->mu);
      if (p.server_svc->told.size() == 100) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard lock(p.server_svc->mu);
  ASSERT_EQ(p.server_svc->told.size(), 100u);
  for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(p.server_svc->told[i], i + 1);
}

TEST(Rpc, WrongExpectedPeerFailsWithAuthError) {
  Kernel k;
  Node server(k.executor(), Identity::generate());
  Node client(k.executor(), Identity::generate());
  auto port = server.listen("127.0.0.1:0").value();
  PeerId someone_else = Identity::generate().peer_id();
  try {
    k.run(client.connect("127.0.0.1:" + std::to_string(port), someone_else));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kAuth);
    EXPECT_NE(e.message().find("expected peer " + someone_else.to_string()), std::string::npos);
  }
}

TEST(Rpc, AnAddressItDialedBeforeReusesThatConnectionWhileItIsOpen) {
  Kernel k;
  Pair p(k);
  std::string addr = "127.0.0.1:" + std::to_string(p.port);
  EXPECT_EQ(k.run(p.client.get_or_connect(addr)), p.conn);
  EXPECT_EQ(k.run(p.client.get_or_connect(addr)), p.conn);
  // Only connections it dialed: the server's connection from the client
  // came from another port, and what the client says it listens on proves
  // nothing, so the server dials the client's address anew.
  auto back = k.run(p.server.get_or_connect(p.client.listen_addr()));
  EXPECT_TRUE(back->outbound());
  EXPECT_EQ(back->peer(), p.client.id());
  EXPECT_EQ(k.run(p.server.get_or_connect(p.client.listen_addr())), back);
  // Once closed, a new one, also before the close ran on the connection's
  // strand.
  p.conn->close(Error(Errc::kCancelled, "test"));
  EXPECT_FALSE(p.conn->is_open());
  auto fresh = k.run(p.client.get_or_connect(addr));
  EXPECT_NE(fresh, p.conn);
  EXPECT_TRUE(fresh->is_open());
  EXPECT_EQ(k.run(fresh->call(kEcho, "again")), "again");
}

TEST(Rpc, CloseAndWaitEndsEveryConnectionAndWhatWaitsOnIt) {
  // The server streams to a client that never reads: its writer waits for
  // credit, a wait its channel and connection hold. close_and_wait() returns
  // only once the connection has closed, which wakes the writer, so nothing
  // keeps the connection alive after it.
  Kernel k;
  Pair p(k);
  auto ch = k.run([&]() -> Task<std::shared_ptr<DataChannel>> {
    auto call = p.conn->call_with_channel(kStream, u64_body(1000));
    auto [reply, ch] = co_await std::move(call);
    co_return ch;
  }());
  ASSERT_EQ(p.server.connections().size(), 1u);
  std::weak_ptr<Connection> served = p.server.connections().front();
  k.run(p.server.close_and_wait());
  EXPECT_TRUE(p.server.connections().empty());
  for (int i = 0; i < 3000 && !served.expired(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(served.expired()) << "something still holds the closed connection";
}

TEST(Rpc, NothingListeningIsUnavailable) {
  Kernel k;
  Node client(k.executor(), Identity::generate());
  // Bind and close to find a port where nothing listens.
  std::uint16_t port;
  {
    Node tmp(k.executor(), Identity::generate());
    port = tmp.listen("127.0.0.1:0").value();
    tmp.close();
  }
  std::this_thread::sleep_for(50ms);
  try {
    k.run(client.connect("127.0.0.1:" + std::to_string(port)));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kUnavailable);
    // The operating system's reason stays with the error (Asio's code, converted).
    EXPECT_EQ(e.system_code(), std::errc::connection_refused);
  }
}

TEST(Rpc, ADialNobodyAnswersFailsAtTheConnectTimeout) {
  // Without a bound the dial would wait for the system's SYN retries (about
  // two minutes; the lab had joins hang that long at a firewalled relay).
  BlackHole hole;
  ASSERT_NE(hole.port(), 0);
  Kernel k;
  NodeOptions o;
  o.connect_timeout = 1s;
  Node client(k.executor(), Identity::generate(), o);
  auto began = Clock::now();
  try {
    k.run(client.connect("127.0.0.1:" + std::to_string(hole.port())));
    FAIL() << "a dial to a full accept queue connected";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kTimeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("no answer within 1000 ms"), std::string::npos)
        << e.what();
  }
  EXPECT_GE(Clock::now() - began, 900ms);
  EXPECT_LT(Clock::now() - began, 30s);
}

TEST(Rpc, LostConnectionFailsPendingCalls) {
  Kernel k;
  Pair p(k);
  auto f = asio::co_spawn(k.executor(), p.conn->call(kSlow, ""), asio::use_future);
  std::this_thread::sleep_for(100ms);
  p.server.close();
  try {
    f.get();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kConnectionLost);
  }
}

TEST(Rpc, DataChannelDeliversAllBytesWithFlowControl) {
  Kernel k;
  NodeOptions opts;
  opts.channel_window = 64 * 1024;  // small window: the sender must wait for credit
  Pair p(k, opts);
  auto run = [&]() -> Task<std::uint64_t> {
    auto call = p.conn->call_with_channel(kStream, u64_body(200));
    auto [reply, ch] = co_await std::move(call);
    EXPECT_EQ(body_u64(reply), 200u);
    std::uint64_t bytes = 0, n = 0;
    for (;;) {
      auto read = ch->read();
      auto chunk = co_await std::move(read);
      if (!chunk) break;
      EXPECT_EQ(chunk->size(), 16384u);
      EXPECT_EQ((*chunk)[0], static_cast<char>('a' + n % 26));
      bytes += chunk->size();
      ++n;
    }
    co_return bytes;
  };
  EXPECT_EQ(k.run(run()), 200u * 16384u);
}

TEST(Rpc, DataChannelTakesWritersFromSeveralThreadsAtOnce) {
  Kernel k(2);
  NodeOptions opts;
  opts.channel_window = 32 * 1024;  // writers keep running out of credit together
  Pair p(k, opts);
  auto ch = k.run([&]() -> Task<std::shared_ptr<DataChannel>> {
    auto call = p.conn->call_with_channel(kCollect, "");
    auto [reply, ch] = co_await std::move(call);
    co_return ch;
  }());
  constexpr int kWriters = 3;
  constexpr std::uint64_t kEach = 150;
  std::vector<std::future<void>> writers;
  for (int w = 0; w < kWriters; ++w) {
    // Each writer is a coroutine on the kernel's two threads, started from a
    // thread of its own.
    writers.push_back(std::async(std::launch::async, [&k, ch, w] {
      auto write_all = [ch, w]() -> Task<void> {
        for (std::uint64_t i = 0; i < kEach; ++i) {
          std::string payload(8192, static_cast<char>('A' + w));
          std::memcpy(payload.data() + 1, &i, sizeof i);
          auto write = ch->write(std::move(payload));
          co_await std::move(write);
        }
      };
      k.run(write_all());
    }));
  }
  for (auto& f : writers) f.get();
  ch->close();
  auto done = p.server_svc->collected.get_future();
  ASSERT_EQ(done.wait_for(30s), std::future_status::ready);
  auto [counts, in_order] = done.get();
  EXPECT_TRUE(in_order);
  ASSERT_EQ(counts.size(), static_cast<std::size_t>(kWriters));
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(counts[static_cast<char>('A' + w)], kEach);
  // A write after close fails with a clear error and sends nothing.
  EXPECT_THROW(k.run([&]() -> Task<void> {
    auto write = ch->write("late");
    co_await std::move(write);
  }()),
               Error);
}

TEST(Rpc, DataChannelSendLimitKeepsFewBytesInFlightAndNeverStalls) {
  // A writer that limits itself to 8 KiB in flight, on a channel whose
  // window (and the reader's) is 1 MiB: credit comes back often enough
  // (every 16 KiB read at most), and a payload larger than the limit still
  // goes out.
  Kernel k;
  Pair p(k);
  auto ch = k.run([&]() -> Task<std::shared_ptr<DataChannel>> {
    auto call = p.conn->call_with_channel(kCollect, "");
    auto [reply, ch] = co_await std::move(call);
    co_return ch;
  }());
  ch->set_send_limit(8 * 1024);
  constexpr std::uint64_t kCount = 100;
  k.run([&]() -> Task<void> {
    for (std::uint64_t i = 0; i < kCount; ++i) {
      std::string payload(i == 50 ? 40000 : 4096, 'A');
      std::memcpy(payload.data() + 1, &i, sizeof i);
      auto write = ch->write(std::move(payload));
      co_await std::move(write);
    }
  }());
  ch->close();
  auto done = p.server_svc->collected.get_future();
  ASSERT_EQ(done.wait_for(30s), std::future_status::ready);
  auto [counts, in_order] = done.get();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(counts['A'], kCount);
}

TEST(Rpc, ADataCallThatTimesOutEndsItsChannelForTheServerToo) {
  // The caller gives up on a data call (its deadline passed) before the
  // server answers: the server's writer must learn it, not fill a window
  // nobody reads and then wait for credit for as long as the connection
  // lives.
  Kernel k;
  Pair p(k);
  EXPECT_THROW(k.run([&]() -> Task<int> {
    auto call = p.conn->call_with_channel(kLateStream, u64_body(300), CallOptions{100ms});
    co_await std::move(call);
    co_return 0;
  }()),
               Error);
  auto failed = p.server_svc->stream_failed.get_future();
  ASSERT_EQ(failed.wait_for(30s), std::future_status::ready)
      << "the server is still writing into a channel its caller gave up";
  EXPECT_FALSE(failed.get().empty());
}

TEST(Rpc, ReadingAChannelThisSideFailedFailsAtOnce) {
  // fail() ends the channel for both sides: the connection forgets it, so a
  // reader here must get the error instead of waiting for ever, whether the
  // connection stays up or closes.
  Kernel k;
  Pair p(k);
  for (bool close_connection : {false, true}) {
    auto ch = k.run([&]() -> Task<std::shared_ptr<DataChannel>> {
      auto call = p.conn->call_with_channel(kCollect, "");
      auto [reply, ch] = co_await std::move(call);
      co_return ch;
    }());
    auto read = asio::co_spawn(k.io(), ch->read(), asio::use_future);
    ch->fail(Error(Errc::kUnavailable, "not wanted"));
    if (close_connection) p.conn->close(Error(Errc::kUnavailable, "test over"));
    ASSERT_EQ(read.wait_for(30s), std::future_status::ready) << close_connection;
    try {
      read.get();
      FAIL() << "read() of a failed channel returned";
    } catch (const Error& e) {
      EXPECT_EQ(e.message(), "not wanted");
    }
    auto again = asio::co_spawn(k.io(), ch->read(), asio::use_future);
    ASSERT_EQ(again.wait_for(30s), std::future_status::ready);
    EXPECT_THROW(again.get(), Error);
  }
}

TEST(Rpc, EachSideLearnsHowThePeerSeesItAndIsToldAnAddressItCanUse) {
  Kernel k;
  Node server(k.executor(), Identity::generate());
  NodeOptions forwarded;
  forwarded.announce = "198.51.100.7:7000";
  Node client(k.executor(), Identity::generate(), forwarded);
  // All interfaces: never "0.0.0.0:PORT" to a peer.
  auto port = server.listen("0.0.0.0:0").value();
  EXPECT_EQ(server.listen_addr(), "0.0.0.0:" + std::to_string(port));
  EXPECT_EQ(server.advertised_addr(), "");  // no connection yet: no address known
  client.listen("127.0.0.1:0").value();
  auto conn = k.run(client.connect("127.0.0.1:" + std::to_string(port), server.id()));
  EXPECT_EQ(conn->peer_listen_addr(), "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(conn->observed_address(), conn->local_address());
  EXPECT_EQ(conn->advertised_addr(), "198.51.100.7:7000");  // --announce, as it is
  EXPECT_EQ(client.advertised_addr(), "198.51.100.7:7000");
  // The server finishes its side of the handshake on its own schedule: the
  // client's connect() may return first, so wait for the server's connection.
  std::shared_ptr<Connection> back;
  for (int i = 0; i < 6000 && !back; ++i) {
    back = server.find(client.id());
    if (!back) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(back);
  EXPECT_EQ(server.advertised_addr(), "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(back->peer_listen_addr(), "198.51.100.7:7000");
  EXPECT_EQ(back->observed_address(), conn->remote_address());
  EXPECT_EQ(back->remote_address(), conn->local_address());
}

TEST(Rpc, DialBackTellsWhetherANodeIsReachable) {
  Kernel k;
  Node server(k.executor(), Identity::generate());
  auto port = server.listen("127.0.0.1:0").value();
  std::string at = "127.0.0.1:" + std::to_string(port);
  {
    Node client(k.executor(), Identity::generate());
    auto cport = client.listen("0.0.0.0:0").value();
    auto conn = k.run(client.connect(at, server.id()));
    EXPECT_EQ(client.reachable(), Reachability::State::kUnknown);
    Reachability r = k.run(client.check_reachable(conn));
    EXPECT_EQ(r.state, Reachability::State::kReachable) << r.reason;
    EXPECT_EQ(r.addr, "127.0.0.1:" + std::to_string(cport));
    EXPECT_EQ(client.reachable(), Reachability::State::kReachable);
    EXPECT_EQ(client.advertised_addr(), r.addr);
  }
  {
    // Claims a port where nothing listens (a port forward that is not there).
    NodeOptions o;
    o.announce = "127.0.0.1:1";
    Node client(k.executor(), Identity::generate(), o);
    client.listen("127.0.0.1:0").value();
    auto conn = k.run(client.connect(at, server.id()));
    Reachability r = k.run(client.check_reachable(conn));
    EXPECT_EQ(r.state, Reachability::State::kUnreachable);
    EXPECT_NE(r.reason.find("cannot connect to 127.0.0.1:1"), std::string::npos) << r.reason;
  }
  {
    // Not listening: nothing to try.
    Node client(k.executor(), Identity::generate());
    auto conn = k.run(client.connect(at, server.id()));
    Reachability r = k.run(client.check_reachable(conn));
    EXPECT_EQ(r.state, Reachability::State::kUnknown);
    EXPECT_EQ(client.advertised_addr(), "");
  }
}

TEST(Rpc, DialBackNeverDialsAThirdParty) {
  Kernel k;
  Node server(k.executor(), Identity::generate());
  auto port = server.listen("127.0.0.1:0").value();
  Node client(k.executor(), Identity::generate());
  auto conn = k.run(client.connect("127.0.0.1:" + std::to_string(port), server.id()));
  std::uint32_t id = 2166136261u;  // FNV-1a of the method's name (docs/protocol.md)
  for (char c : std::string_view("peers.Reach.dial_back")) {
    id = (id ^ static_cast<std::uint8_t>(c)) * 16777619u;
  }
  for (auto [arg, code] : {std::pair{"10.1.2.3:7000", Errc::kPermissionDenied},
                           std::pair{"127.0.0.1:0", Errc::kInvalidArgument},
                           std::pair{"junk", Errc::kInvalidArgument}}) {
    try {
      k.run(conn->call(id, arg));
      ADD_FAILURE() << arg << " was dialed";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << arg << ": " << e.what();
    }
  }
}

// FNV-1a of a built-in method's name (docs/protocol.md).
std::uint32_t builtin_id(std::string_view name) {
  std::uint32_t id = 2166136261u;
  for (char c : name) id = (id ^ static_cast<std::uint8_t>(c)) * 16777619u;
  return id;
}

TEST(Rpc, TwoNodesThatNeitherListenPunchAConnectionThroughANodeBothKnow) {
  Kernel k;
  // x and t do not listen (nobody can dial either); both know c. x asks c
  // to introduce it to t, both dial at once, and they talk directly.
  Node c(k.executor(), Identity::generate());
  auto cport = c.listen("127.0.0.1:0").value();
  std::string at = "127.0.0.1:" + std::to_string(cport);
  Node x(k.executor(), Identity::generate());
  Node t(k.executor(), Identity::generate());
  auto tsvc = std::make_shared<TestService>();
  tsvc->my_name = "t";
  t.add_service(tsvc);
  auto x_to_c = k.run(x.connect(at, c.id()));
  k.run(t.connect(at, c.id()));
  for (int round = 0; round < 3; ++round) {
    auto direct = k.run(x.punch(x_to_c, t.id()));
    ASSERT_NE(direct, nullptr);
    EXPECT_EQ(direct->peer(), t.id());
    EXPECT_TRUE(direct->outbound());
    EXPECT_EQ(k.run(direct->call(kEcho, "through the hole")), "through the hole");
    auto back = t.find(x.id());
    ASSERT_NE(back, nullptr);
    EXPECT_FALSE(back->outbound());
    // An open connection is returned as it is.
    EXPECT_EQ(k.run(x.punch(x_to_c, t.id())), direct);
    direct->close(Error(Errc::kCancelled, "again"));
    for (int i = 0; i < 200 && (x.find(t.id()) || t.find(x.id())); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_EQ(x.stats().punched, 3u);
  EXPECT_EQ(t.stats().punched, 3u);
  EXPECT_EQ(c.find(x.id())->peer(), x.id());  // c relayed, it did not carry the data
}

TEST(Rpc, ANodeServesOnlyThePunchesItsFilterExpects) {
  // t lets only c introduce only x: a punch it does not expect is refused
  // before it dials anything, and the connections stay up.
  Kernel k;
  Node c(k.executor(), Identity::generate());
  auto cport = c.listen("127.0.0.1:0").value();
  std::string at = "127.0.0.1:" + std::to_string(cport);
  Node x(k.executor(), Identity::generate());
  Node stranger(k.executor(), Identity::generate());
  Node t(k.executor(), Identity::generate());
  t.add_service(std::make_shared<TestService>());
  std::mutex mu;
  std::vector<std::pair<PeerId, PeerId>> asked;
  t.on_punch_request([&](const PeerId& asker, const PeerId& peer) {
    std::lock_guard lock(mu);
    asked.emplace_back(asker, peer);
    return asker == c.id() && peer == x.id();
  });
  auto x_to_c = k.run(x.connect(at, c.id()));
  auto stranger_to_c = k.run(stranger.connect(at, c.id()));
  auto t_to_c = k.run(t.connect(at, c.id()));
  try {
    k.run(stranger.punch(stranger_to_c, t.id()));
    ADD_FAILURE() << "t punched for a peer it did not expect";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kPermissionDenied) << e.what();
    EXPECT_NE(std::string(e.what()).find("not expecting"), std::string::npos) << e.what();
  }
  EXPECT_EQ(t.stats().punches, 0u);  // nothing was dialed
  EXPECT_TRUE(t_to_c->is_open());
  EXPECT_TRUE(stranger_to_c->is_open());
  auto direct = k.run(x.punch(x_to_c, t.id()));
  ASSERT_NE(direct, nullptr);
  EXPECT_EQ(k.run(direct->call(kEcho, "expected")), "expected");
  std::lock_guard lock(mu);
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].first, c.id());
  EXPECT_EQ(asked[0].second, stranger.id());
  EXPECT_EQ(asked[1].first, c.id());
  EXPECT_EQ(asked[1].second, x.id());
}

TEST(Rpc, AnIntroductionToAPeerTheNodeDoesNotKnowIsNotFound) {
  Kernel k;
  Node c(k.executor(), Identity::generate());
  c.add_service(std::make_shared<TestService>());
  auto cport = c.listen("127.0.0.1:0").value();
  Node x(k.executor(), Identity::generate());
  auto conn = k.run(x.connect("127.0.0.1:" + std::to_string(cport), c.id()));
  try {
    k.run(x.punch(conn, Identity::generate().peer_id()));
    ADD_FAILURE() << "punched a stranger";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kNotFound) << e.what();
  }
  // Malformed requests are refused; the connection stays up.
  const std::uint32_t introduce = builtin_id("peers.Reach.introduce");
  const std::uint32_t punch = builtin_id("peers.Reach.punch");
  std::string someone = Identity::generate().peer_id().to_string();
  for (auto [method, arg] :
       {std::pair{introduce, std::string("junk")}, std::pair{introduce, someone + " 0"},
        std::pair{introduce, someone + " 99999"}, std::pair{punch, someone + " nowhere"},
        std::pair{punch, someone + " 127.0.0.1:0"},
        std::pair{punch, std::string("x 127.0.0.1:9")}}) {
    try {
      k.run(conn->call(method, arg));
      ADD_FAILURE() << arg << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::kInvalidArgument) << arg << ": " << e.what();
    }
  }
  EXPECT_TRUE(conn->is_open());
  EXPECT_EQ(k.run(conn->call(kEcho, "still here")), "still here");
}

TEST(Rpc, APunchThatIsRefusedAgainAndAgainEndsAtItsDeadlineWithTheReason) {
  Kernel k;
  auto p = internal::Punch::open(k.executor(), "127.0.0.1");
  EXPECT_NE(p->port(), 0);
  auto began = std::chrono::steady_clock::now();
  try {
    // Through a bool: an awaitable's result must be default-constructible.
    k.run([](std::shared_ptr<internal::Punch> p) -> Task<bool> {
      auto run = p->run(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 1),
                        std::chrono::milliseconds(700));
      co_await std::move(run);
      co_return true;
    }(p));
    ADD_FAILURE() << "connected to a port where nothing listens";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kTimeout);
    EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
  }
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(650));
  EXPECT_GE(p->attempts(), 2u);  // dialed again after a refusal
}

TEST(Rpc, DistributedContinuationSkipsTheMiddleNode) {
  Kernel k;
  // a -> b -> c: b forwards to c and then exits; c answers a directly.
  Node a(k.executor(), Identity::generate());
  auto b = std::make_unique<Node>(k.executor(), Identity::generate());
  Node c(k.executor(), Identity::generate());
  auto sa = std::make_shared<TestService>();
  auto sb = std::make_shared<TestService>();
  auto sc = std::make_shared<TestService>();
  sc->my_name = "c";
  a.add_service(sa);
  b->add_service(sb);
  c.add_service(sc);
  a.listen("127.0.0.1:0").value();
  auto pb = b->listen("127.0.0.1:0").value();
  auto pc = c.listen("127.0.0.1:0").value();
  sb->next = k.run(b->connect("127.0.0.1:" + std::to_string(pc), c.id()));
  // c answers only after b is gone, so the answer cannot pass through b.
  std::promise<void> reached;
  sc->on_reached = [&] { reached.set_value(); };
  sc->end_delay_ms = 300;
  auto to_b = k.run(a.connect("127.0.0.1:" + std::to_string(pb), b->id()));
  auto f = asio::co_spawn(k.executor(), to_b->call(kRelay, "x"), asio::use_future);
  reached.get_future().wait();
  b->close();  // the middle node goes away right after forwarding
  b.reset();
  EXPECT_EQ(f.get(), "end of chain at c");
  EXPECT_EQ(sb->forwards.load(), 1);
  EXPECT_NE(a.find(c.id()), nullptr);  // c connected to a to answer
}

// Nodes named n<first>, n<first+1>, ..., each listening on loopback, each
// but the last forwarding test.Test.relay to the next.
struct Chain {
  Chain(Kernel& k, int first, int count) {
    for (int i = 0; i < count; ++i) {
      nodes.push_back(std::make_unique<Node>(k.executor(), Identity::generate()));
      svcs.push_back(std::make_shared<TestService>());
      svcs.back()->my_name = "n" + std::to_string(first + i);
      nodes.back()->add_service(svcs.back());
      ports.push_back(nodes.back()->listen("127.0.0.1:0").value());
    }
    for (int i = 0; i + 1 < count; ++i) {
      svcs[i]->next = k.run(nodes[i]->connect("127.0.0.1:" + std::to_string(ports[i + 1])));
    }
  }
  std::string addr(int i) const { return "127.0.0.1:" + std::to_string(ports[i]); }
  void close() {
    for (auto& n : nodes) n->close();
  }
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::shared_ptr<TestService>> svcs;
  std::vector<std::uint16_t> ports;
};

TEST(Rpc, ContinuationChainOfFourWithErrorsPropagated) {
  Kernel k;
  // n0 calls n1, which forwards to n2, which forwards to n3.
  Chain chain(k, 0, 4);
  auto conn = k.run(chain.nodes[0]->connect(chain.addr(1)));
  EXPECT_EQ(k.run(conn->call(kRelay, "")), "end of chain at n3");
  EXPECT_EQ(chain.svcs[1]->forwards.load(), 1);
  EXPECT_EQ(chain.svcs[2]->forwards.load(), 1);
  chain.close();
}

TEST(Rpc, AnswerToACallerNobodyCanDialTravelsBackAlongTheChain) {
  Kernel k;
  // n0 -> n1 -> n2 -> n3: n0 does not listen at all, or announces an address
  // where nothing listens (a NATed viewer's); n3's answer comes back through
  // n2 and n1, and nobody dials n0.
  for (std::string announce : {"", "127.0.0.1:1"}) {
    NodeOptions o;
    o.announce = announce;
    Node n0(k.executor(), Identity::generate(), o);
    Chain chain(k, 1, 3);
    auto conn = k.run(n0.connect(chain.addr(0)));
    EXPECT_EQ(conn->peer_listen_addr(), chain.addr(0));
    for (int call = 0; call < 3; ++call) {
      EXPECT_EQ(k.run(conn->call(kRelay, "")), "end of chain at n3") << announce;
    }
    EXPECT_EQ(chain.svcs[0]->forwards.load(), 3);
    EXPECT_EQ(chain.svcs[1]->forwards.load(), 3);
    EXPECT_EQ(n0.find(chain.nodes[2]->id()), nullptr) << "the answer dialed the caller";
    EXPECT_EQ(chain.nodes[2]->find(n0.id()), nullptr);
    n0.close();
    chain.close();
  }
}

TEST(Rpc, ACallerHearsAtOnceWhenANodeOnItsForwardedCallsWayLeaves) {
  Kernel k;
  // n0 -> n1 -> n2 -> n3, and n2 leaves while n3 works on the answer: the
  // answer's way back is gone and n0 cannot be dialed, so nothing would
  // ever reach n0. n1, which forwarded the call over its connection to n2,
  // tells n0 when that connection closes, long before n0's deadline.
  Node n0(k.executor(), Identity::generate());
  Chain chain(k, 1, 3);
  std::promise<void> reached;
  chain.svcs[2]->on_reached = [&] { reached.set_value(); };
  // n3's answer, a second later, cannot reach n0 at all: what n0 hears is
  // n1's report of the loss (without it, n0 would wait its 60 s).
  chain.svcs[2]->end_delay_ms = 1000;
  auto conn = k.run(n0.connect(chain.addr(0)));
  auto f = asio::co_spawn(k.executor(), conn->call(kRelay, "", CallOptions{60s}), asio::use_future);
  ASSERT_EQ(reached.get_future().wait_for(30s), std::future_status::ready);
  k.run(chain.nodes[1]->close_and_wait());
  try {
    f.get();
    ADD_FAILURE() << "the call succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kConnectionLost) << e.what();
    EXPECT_NE(e.message().find("closed its connection"), std::string::npos) << e.what();
  }
  n0.close();
  chain.close();
}

TEST(Rpc, GoawayLetsInFlightCallsFinish) {
  Kernel k;
  Pair p(k);
  auto f = asio::co_spawn(k.executor(), p.conn->call(kSleepMs, u64_body(300)), asio::use_future);
  std::this_thread::sleep_for(50ms);
  auto server_conn = p.server.connections().at(0);
  auto g = asio::co_spawn(k.executor(), server_conn->goaway("maintenance"), asio::use_future);
  EXPECT_EQ(body_u64(f.get()), 300u);
  g.get();
  // New calls are refused once the peer said GOAWAY.
  EXPECT_THROW(k.run(p.conn->call(kEcho, "late")), Error);
}

TEST(Rpc, WorksWithChaChaAndPlain) {
  Kernel k;
  NodeOptions chacha;
  chacha.prefer_chacha = true;
  Pair p(k, chacha);
  EXPECT_EQ(p.conn->cipher(), Cipher::kChaCha20Poly1305);
  EXPECT_EQ(k.run(p.conn->call(kEcho, "c")), "c");
  NodeOptions plain;
  plain.allow_plain = true;
  Pair q(k, plain);
  EXPECT_EQ(q.conn->cipher(), Cipher::kPlain);
  EXPECT_EQ(k.run(q.conn->call(kEcho, "p")), "p");
}

TEST(Rpc, KeepaliveMeasuresRtt) {
  Kernel k;
  NodeOptions fast;
  fast.keepalive_interval = 50ms;
  Pair p(k, fast);
  for (int i = 0; i < 200 && p.conn->stats().rtt_ms < 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_GE(p.conn->stats().rtt_ms, 0.0);
}

TEST(Rpc, TcpPathCountsWhatThePeerAcknowledged) {
  Kernel k;
  Pair p(k);
  std::string big(200000, 'x');
  EXPECT_EQ(k.run(p.conn->call(kEcho, big)).size(), big.size());
  // The answer came back, so the peer acknowledged the call's bytes.
  TcpPath path = p.conn->tcp_path();
  ASSERT_TRUE(path.ok);
  EXPECT_GE(path.bytes_acked, big.size());
  EXPECT_GE(path.srtt_ms, 0.0);
  p.conn->close(Error(Errc::kCancelled, "done"));
  EXPECT_FALSE(p.conn->tcp_path().ok);  // closing already
  auto conn = p.conn;
  k.run([conn]() -> Task<void> {
    auto closed = conn->wait_closed();
    co_await std::move(closed);
  }());
  EXPECT_FALSE(p.conn->tcp_path().ok);
}

}  // namespace
}  // namespace peers::rpc
