// Peers RPC across processes: the test process is node A; rpc-test-peer
// processes are B and C, on loopback. Calls both ways, typed errors, a
// distributed continuation whose middle node exits, and a peer that dies.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "lib/kernel/subprocess.h"
#include "lib/rpc/rpc_test_util.h"
#include "tests/rpc/peer.pidl.rpc.h"
#include "tests/support/runfiles.h"

namespace {

namespace asio = boost::asio;
using namespace peers::testpeer;
using peers::Redirect;
using peers::SpawnOptions;
using peers::Subprocess;
using peers::rpc::Answer;
using peers::rpc::CallContext;
using peers::rpc::Task;
using peers::rpc::testing::Kernel;
using namespace std::chrono_literals;

// A's own service: B calls it back during ask_back.
class LocalPeer : public PeerServer {
 public:
  Task<Answer<Text>> echo(CallContext&, Text r) override {
    r.served_by = "a";
    co_return r;
  }
  Task<Answer<Text>> relay(CallContext&, Text r) override { co_return r; }
  Task<Answer<Text>> ask_back(CallContext&, Text r) override { co_return r; }
  Task<void> hang(CallContext&) override { co_return; }
};

struct Peer {
  std::unique_ptr<Subprocess> proc;
  std::string addr;
};

Peer start_peer(const std::string& name, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--name", name};
  args.insert(args.end(), extra.begin(), extra.end());
  SpawnOptions opts;
  opts.stdin_to = Redirect::null();
  opts.stdout_to = Redirect::null();
  auto p = Subprocess::spawn(peers::test::runfile("tests/rpc/rpc-test-peer"), args, opts);
  EXPECT_TRUE(p) << p.error().what();
  Peer peer;
  peer.proc = std::make_unique<Subprocess>(std::move(*p));
  auto line = peer.proc->read_until(peers::Stream::kStderr, "\n", 30s);
  EXPECT_TRUE(line) << (line ? "" : line.error().what());
  auto at = line->find("addr=");
  EXPECT_NE(at, std::string::npos) << *line;
  peer.addr = line->substr(at + 5, line->find(' ', at) - at - 5);
  return peer;
}

class RpcAcrossProcesses : public ::testing::Test {
 protected:
  RpcAcrossProcesses() : node_(kernel_.executor(), peers::Identity::generate()) {
    node_.add_service(std::make_shared<LocalPeer>());
    node_.listen("127.0.0.1:0").value();
  }
  PeerClient connect(const std::string& addr) {
    return PeerClient(kernel_.run(node_.connect(addr)));
  }
  Kernel kernel_;
  peers::rpc::Node node_;
};

TEST_F(RpcAcrossProcesses, CallReachesAnotherProcess) {
  Peer b = start_peer("b");
  PeerClient client = connect(b.addr);
  Text t;
  t.text = "hello";
  Text r = client.echo_sync(t);
  EXPECT_EQ(r.text, "hello");
  EXPECT_EQ(r.served_by, "b");
}

TEST_F(RpcAcrossProcesses, TypedErrorCrossesTheProcessBoundary) {
  Peer b = start_peer("b");
  PeerClient client = connect(b.addr);
  Text t;
  t.text = "refuse";
  try {
    client.echo_sync(t);
    FAIL() << "no error";
  } catch (const Refused& e) {
    EXPECT_EQ(e.why, "asked to refuse");
    EXPECT_EQ(e.message(), "refused by b");
    EXPECT_EQ(e.origin(), client.connection()->peer().to_string());
    EXPECT_EQ(e.call_path(), "peers.testpeer.Peer.echo");
  }
  t.text = "still fine";
  EXPECT_EQ(client.echo_sync(t).text, "still fine");
}

TEST_F(RpcAcrossProcesses, CalleeCallsTheCallerBackOnTheSameConnection) {
  Peer b = start_peer("b");
  PeerClient client = connect(b.addr);
  Text t;
  t.text = "ping";
  Text r = client.ask_back_sync(t);
  EXPECT_EQ(r.text, "caller said: ping");
  EXPECT_EQ(r.served_by, "a");
  EXPECT_EQ(node_.connections().size(), 1u);
}

TEST_F(RpcAcrossProcesses, ContinuationAnswersDirectlyAfterTheMiddleNodeExits) {
  Peer c = start_peer("c");
  Peer b = start_peer("b", {"--next", c.addr, "--exit-after-forward"});
  PeerClient client = connect(b.addr);
  Text t;
  t.text = "via b";
  t.delay_ms = 800;  // c answers well after b has gone
  Text r = client.relay_sync(t);
  // b left 100 ms after forwarding; c answered 800 ms after it got the call.
  EXPECT_FALSE(b.proc->running()) << "the middle node should have exited before the answer";
  EXPECT_EQ(r.served_by, "c");
  EXPECT_EQ(r.text, "via b");
  auto st = b.proc->wait(10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success()) << st->to_string();
}

TEST_F(RpcAcrossProcesses, KilledPeerFailsPendingCallsWithConnectionLost) {
  Peer b = start_peer("b");
  PeerClient client = connect(b.addr);
  auto pending = asio::co_spawn(kernel_.executor(), client.hang(), asio::use_future);
  Text t;
  t.text = "sync point";
  client.echo_sync(t);  // the hang call is in flight on b by now
  ASSERT_TRUE(b.proc->signal(SIGKILL));
  try {
    pending.get();
    FAIL() << "no error";
  } catch (const peers::Error& e) {
    EXPECT_EQ(e.code(), peers::Errc::kConnectionLost) << e.what();
  }
}

}  // namespace
