// rpc-test-peer: a Peers node in its own process for tests/rpc/process_test.
//
//   rpc-test-peer --listen 127.0.0.1:0 --name b --next 127.0.0.1:7001 --exit-after-forward
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "lib/kernel/cli.h"
#include "lib/kernel/log.h"
#include "lib/rpc/node.h"
#include "tests/rpc/peer.pidl.rpc.h"

namespace {

namespace asio = boost::asio;
using namespace peers::testpeer;
using peers::rpc::Answer;
using peers::rpc::CallContext;
using peers::rpc::Task;

class Server : public PeerServer {
 public:
  Server(peers::rpc::Node& node, std::string name, std::string next, bool exit_after_forward)
      : node_(node),
        name_(std::move(name)),
        next_(std::move(next)),
        exit_after_forward_(exit_after_forward) {}

  Task<Answer<Text>> echo(CallContext& ctx, Text request) override {
    if (request.text == "refuse") throw Refused("refused by " + name_, "asked to refuse");
    if (request.delay_ms > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor,
                           std::chrono::milliseconds(request.delay_ms));
      auto w = t.async_wait(asio::use_awaitable);
      co_await std::move(w);
    }
    request.served_by = name_;
    co_return request;
  }

  Task<Answer<Text>> relay(CallContext& ctx, Text request) override {
    if (next_.empty()) throw peers::Error(peers::Errc::kInvalidArgument, "no --next node");
    auto op = node_.connect(next_);
    auto conn = co_await std::move(op);
    if (exit_after_forward_) {
      // Leave as soon as the forwarded call is on its way: this node keeps
      // no state for it.
      // (A moment later, so the forwarded CALL leaves the socket first.)
      auto t =
          std::make_shared<asio::steady_timer>(node_.executor(), std::chrono::milliseconds(100));
      t->async_wait([t](boost::system::error_code) {
        peers::log_info("forwarded; exiting");
        std::_Exit(0);
      });
    }
    co_return ctx.forward<Peer::Echo>(conn, request);
  }

  Task<Answer<Text>> ask_back(CallContext& ctx, Text request) override {
    PeerClient caller(ctx.connection());
    auto op = caller.echo(request);
    Text answer = co_await std::move(op);
    answer.text = "caller said: " + answer.text;
    co_return answer;
  }

  Task<void> hang(CallContext& ctx) override {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
    auto w = t.async_wait(asio::use_awaitable);
    co_await std::move(w);
  }

 private:
  peers::rpc::Node& node_;
  std::string name_, next_;
  bool exit_after_forward_;
};

}  // namespace

int main(int argc, char** argv) {
  peers::ToolCli cli("rpc-test-peer", "A Peers node for cross-process RPC tests.",
                     "rpc-test-peer --listen 127.0.0.1:0 --name b");
  std::string listen = "127.0.0.1:0", name = "peer", next;
  bool exit_after_forward = false;
  cli.app().add_option("--listen", listen, "HOST:PORT");
  cli.app().add_option("--name", name, "Name reported in answers");
  cli.app().add_option("--next", next, "Node that relay() forwards to");
  cli.app().add_flag("--exit-after-forward", exit_after_forward, "Exit right after forwarding");
  return cli.run(argc, argv, [&] {
    asio::io_context io(1);
    peers::rpc::Node node(io.get_executor(), peers::Identity::generate());
    node.add_service(std::make_shared<Server>(node, name, next, exit_after_forward));
    auto port = node.listen(listen);
    if (!port) throw port.error();
    peers::log_info("listening", {{"addr", node.listen_addr()}, {"peer", node.id().to_string()}});
    io.run();
    return 0;
  });
}
