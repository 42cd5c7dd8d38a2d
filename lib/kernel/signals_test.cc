#include "lib/kernel/signals.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

namespace peers {
namespace {

TEST(Signals, SigtermRequestsStopAndWakesFd) {
  install_stop_signals();
  ASSERT_FALSE(stop_requested());
  ASSERT_EQ(::raise(SIGTERM), 0);  // would kill the test without the handler
  EXPECT_TRUE(stop_requested());
  EXPECT_EQ(stop_signal(), SIGTERM);
  pollfd p{stop_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 10000), 1);
  wait_for_stop();  // returns at once
}

TEST(Signals, SigpipeIsIgnored) {
  install_stop_signals();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  char c = 0;
  EXPECT_EQ(::write(fds[1], &c, 1), -1);  // EPIPE instead of death
  ::close(fds[1]);
}

}  // namespace
}  // namespace peers
