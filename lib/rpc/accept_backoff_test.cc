// A node whose process has no file descriptor left for the connections
// waiting in its backlog: its accept loop must back off instead of spinning,
// say so once a second with a count, and take the connections once
// descriptors are free again. Its own binary, as RLIMIT_NOFILE is the
// process's.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <thread>

#include "lib/rpc/hostile_peer.h"
#include "lib/rpc/rpc_test_util.h"

namespace peers::rpc {
namespace {

using namespace std::chrono_literals;
using testing::Clock;
using testing::kDeadline;
using testing::LogCapture;

struct Echo : Service {
  std::string_view name() const override { return "test.Echo"; }
  std::vector<MethodInfo> methods() const override { return {{0x3001, "test.Echo.echo"}}; }
  Task<Answer<std::string>> call(CallContext&, std::uint32_t, std::string args) override {
    co_return args;
  }
  Task<void> event(CallContext&, std::uint32_t, std::string) override { co_return; }
};

TEST(AcceptBackoff, OutOfDescriptorsNeitherSpinsNorFloodsTheLog) {
  log_setup("accept_backoff_test", LogFormat::kText, LogLevel::kDebug);
  LogCapture logs;
  testing::Kernel k(1);
  Node server(k.executor(), Identity::generate());
  server.add_service(std::make_shared<Echo>());
  std::uint16_t port = server.listen("127.0.0.1:0").value();

  // Sockets made now, connected once no descriptor is left: the kernel
  // completes their TCP handshakes into the node's backlog, and every
  // accept() then fails with EMFILE.
  constexpr int kWaiting = 8;
  std::vector<int> fds;
  for (int i = 0; i < kWaiting; ++i) fds.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit none = saved;
  none.rlim_cur = static_cast<rlim_t>(lowest_free);  // every descriptor below is taken
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &none), 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int fd : fds) ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);

  // The window this test is about: three seconds without descriptors.
  auto start = Clock::now();
  std::this_thread::sleep_for(3s);
  auto failures = server.stats().accept_failures;
  auto lines = logs.matching({"accept failed "});
  auto elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);

  // Backing off from 10 ms to 1 s, three seconds hold about 9 tries; a loop
  // that spins makes millions.
  EXPECT_GE(failures, 2u);
  EXPECT_LE(failures, 40u);
  // One line a second at most (the first, then one per second with a count).
  EXPECT_GE(lines.size(), 1u);
  EXPECT_LE(static_cast<double>(lines.size()), elapsed_s + 2) << logs.all();
  EXPECT_NE(lines.front().find("reason=\"Too many open files\""), std::string::npos)
      << lines.front();

  // Descriptors are back: the waiting connections are taken within a backoff.
  auto deadline = Clock::now() + kDeadline;
  while (server.stats().accepted < static_cast<std::size_t>(kWaiting) && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.stats().accepted, static_cast<std::size_t>(kWaiting));
  for (int fd : fds) ::close(fd);
  Node client(k.executor(), Identity::generate());
  auto conn = k.run(client.connect("127.0.0.1:" + std::to_string(port), server.id()));
  EXPECT_EQ(k.run(conn->call(0x3001, "served")), "served");
  client.close();
  server.close();
}

}  // namespace
}  // namespace peers::rpc
