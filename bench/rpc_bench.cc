// rpc_bench: the RPC runtime (lib/rpc) on loopback against raw TCP.
//
//   bazel build -c opt //bench:rpc_bench && bazel-bin/bench/rpc_bench
//   rpc_bench --layout thread --window-ms 1000 --windows 1
//
// Prints one JSON line per benchmark on stdout (see bench/harness.h):
//   tcp.pingpong         64-byte round trips, blocking sockets     (baseline)
//   rpc.call_serial      64-byte call and result, one at a time     vs tcp.pingpong
//   rpc.call_pipelined   the same with 64 calls in flight           vs rpc.call_serial
//   iperf3.bulk_16k      iperf3 -l 16K on the same loopback         (yardstick)
//   iperf3.bulk_128k     iperf3 -l 128K (its default write size)    (yardstick)
//   tcp.bulk             16 KiB writes, one way                     vs iperf3.bulk_16k
//   tcp.bulk_128k        128 KiB writes, one way                    vs iperf3.bulk_128k
//   crypto.open_<cipher> one core opening 16 KiB records            (limit)
//   rpc.data_bulk        16 KiB payloads on a data channel, sealed  vs tcp.bulk
//   rpc.data_bulk_plain  the same without encryption                vs tcp.bulk
//   rpc.data_bulk_vs_aead        rpc.data_bulk                      vs crypto.open_<cipher>
//   rpc.data_bulk_plain_vs_128k  rpc.data_bulk_plain                vs tcp.bulk_128k
//
// The iperf3 rows need iperf3 in PATH (scripts/setup installs it); without it
// they are left out, with a note on stderr. iperf3 takes whole seconds, so
// its windows are the warm-up and the window rounded up to whole seconds.
//
// One connection each. The server side runs in a second process (this binary
// re-executed with --serve) unless --layout thread; each side's io_context
// runs on one thread, so on two cores the peers behave like two machines.
// The benchmarks of a group (the three call rows; the three bulk rows) keep
// their servers and connections up and take turns, a window each per round,
// so a baseline and what is compared with it are measured seconds apart.
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/cipher_rate.h"
#include "bench/harness.h"
#include "bench/tcp_baseline.h"
#include "lib/crypto/identity.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/error.h"
#include "lib/kernel/subprocess.h"
#include "lib/rpc/connection.h"
#include "lib/rpc/node.h"
#include "lib/rpc/service.h"

namespace peers::bench {
namespace {

namespace asio = boost::asio;
using rpc::Task;

constexpr std::size_t kMessageSize = 64;
constexpr std::size_t kChunkSize = 16 * 1024;
constexpr int kPipelineDepth = 64;
// The raw bulk receiver's recv() size. On loopback a segment carries up to
// 64 KiB; reading about one at a time was the fastest here (16, 32, 64, 128
// and 256 KiB tried: 256 KiB, the RPC connection's input buffer, moved about
// 0.6 of what 64 KiB did, since a long recv() holds the socket while the
// sender's segments pile up in its backlog).
constexpr std::size_t kBulkReadSize = 64 * 1024;
// The large raw write size: iperf3's default.
constexpr std::size_t kLargeWriteSize = 128 * 1024;

// Method ids of the hand-written benchmark interface.
enum : std::uint32_t {
  kEcho = 0xbe00'0001,
  kStream = 0xbe00'0002,  // data: the server streams kChunkSize payloads until the channel ends
};

class BenchService : public rpc::Service {
 public:
  std::string_view name() const override { return "bench.Bench"; }
  std::vector<rpc::MethodInfo> methods() const override {
    return {{kEcho, "bench.Bench.echo"}, {kStream, "bench.Bench.stream", false, true}};
  }

  Task<rpc::Answer<std::string>> call(rpc::CallContext& ctx, std::uint32_t method,
                                      std::string args) override {
    if (method == kEcho) co_return args;
    if (method != kStream) throw Error(Errc::kUnknownMethod, "no such method");
    auto channel = ctx.channel();
    auto writer = [channel]() -> Task<void> {
      try {
        for (;;) {
          // write() takes ownership, so every payload is a fresh string; filling
          // it is the cheapest way to make one (a copy of a template would add
          // a 16 KiB memcpy, slow on this class of machine, to the sender).
          std::string payload(kChunkSize, 'd');
          auto written = channel->write(std::move(payload));
          co_await std::move(written);
        }
      } catch (const Error&) {
        // The client hung up: the benchmark is over.
      }
    };
    auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(executor, std::move(writer), asio::detached);
    co_return std::string();
  }

  Task<void> event(rpc::CallContext&, std::uint32_t, std::string) override { co_return; }
};

rpc::NodeOptions node_options(bool plain) {
  rpc::NodeOptions options;
  options.allow_plain = plain;
  return options;
}

// The server side: one node, one thread, until its client disconnects.
int serve_rpc(int ready_fd, bool plain) {
  asio::io_context io(1);
  rpc::Node node(io.get_executor(), Identity::generate(), node_options(plain));
  node.add_service(std::make_shared<BenchService>());
  node.on_disconnect([&node](const std::shared_ptr<rpc::Connection>&, const Error&) {
    node.close();  // stops accepting too, so io.run() returns once all is closed
  });
  auto port = node.listen("127.0.0.1:0");
  if (!port) throw port.error();
  announce_port(ready_fd, *port);
  io.run();
  return 0;
}

// The client side: a node on its own io_context thread, connected to a server.
class RpcClient {
 public:
  RpcClient(std::uint16_t port, bool plain)
      : work_(io_.get_executor()),
        node_(io_.get_executor(), Identity::generate(), node_options(plain)),
        thread_([this] { io_.run(); }) {
    try {
      auto connecting = node_.connect("127.0.0.1:" + std::to_string(port));
      conn_ = asio::co_spawn(io_, std::move(connecting), asio::use_future).get();
      if ((conn_->cipher() == Cipher::kPlain) != plain) {
        throw Error(Errc::kInternal,
                    "connection uses cipher " + std::string(cipher_name(conn_->cipher())));
      }
    } catch (...) {
      stop();  // no destructor runs for a constructor that throws
      throw;
    }
  }

  ~RpcClient() { stop(); }

  const std::shared_ptr<rpc::Connection>& connection() const { return conn_; }
  rpc::Executor executor() { return io_.get_executor(); }

 private:
  void stop() {
    conn_.reset();
    node_.close();
    work_.reset();
    // Let the closing connection finish on its own, so coroutine frames that
    // own sockets are freed while the io_context is alive.
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!io_.stopped() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    io_.stop();
    thread_.join();
  }

  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  rpc::Node node_;
  std::thread thread_;
  std::shared_ptr<rpc::Connection> conn_;
};

// Coroutine workers that count what they do, sampled from the main thread.
class Workers {
 public:
  explicit Workers(int count) : live_(count) {}

  std::atomic<std::uint64_t> counter{0};
  std::atomic<bool> stop{false};

  // Completion for co_spawn; references only, so it is trivially destructible.
  auto on_done() {
    return [this](std::exception_ptr e) {
      if (e) {
        std::lock_guard lock(mu_);
        if (!failure_) failure_ = e;
      }
      if (live_.fetch_sub(1) == 1) done_.set_value();
    };
  }

  // Stops the workers, waits for them and rethrows the first failure.
  void finish() {
    stop = true;
    done_.get_future().wait();
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  std::atomic<int> live_;
  std::promise<void> done_;
  std::mutex mu_;
  std::exception_ptr failure_;
};

double call_rate(RpcClient& client, int in_flight, const Timing& timing) {
  Workers workers(in_flight);
  auto conn = client.connection();
  for (int i = 0; i < in_flight; ++i) {
    auto worker = [conn, &workers]() -> Task<void> {
      const std::string args(kMessageSize, 'a');
      while (!workers.stop.load(std::memory_order_relaxed)) {
        std::string request = args;
        auto call = conn->call(kEcho, std::move(request));
        std::string result = co_await std::move(call);
        if (result.size() != kMessageSize) throw Error(Errc::kInternal, "echo changed the size");
        workers.counter.fetch_add(1, std::memory_order_relaxed);
      }
    };
    asio::co_spawn(client.executor(), std::move(worker), workers.on_done());
  }
  double rate = sample_rate(workers.counter, timing);
  workers.finish();
  return rate;
}

double data_rate(RpcClient& client, const Timing& timing) {
  Workers workers(1);
  auto conn = client.connection();
  auto reader = [conn, &workers]() -> Task<void> {
    auto opening = conn->call_with_channel(kStream, std::string());
    auto opened = co_await std::move(opening);
    std::shared_ptr<rpc::DataChannel> channel = opened.second;
    while (!workers.stop.load(std::memory_order_relaxed)) {
      auto next = channel->read();
      std::optional<std::string> chunk = co_await std::move(next);
      if (!chunk) throw Error(Errc::kConnectionLost, "the server ended the data channel");
      workers.counter.fetch_add(chunk->size(), std::memory_order_relaxed);
    }
    // Not close(): that ends only this side's sending. fail() tells the
    // server's writer to stop, so no writer outlives its window.
    channel->fail(Error(Errc::kUnavailable, "measuring window over"));
  };
  asio::co_spawn(client.executor(), std::move(reader), workers.on_done());
  double rate = sample_rate(workers.counter, timing);
  workers.finish();
  return rate;
}

struct Options {
  Layout layout = Layout::kProcess;
  Timing timing;
  int server_cpu = -1;  // with --pin: the client runs on CPU 0, the server on CPU 1
};

// Routes the server arguments of a re-executed child (and of --layout thread).
int serve(const std::string& kind, bool plain, int ready_fd) {
  if (kind == "tcp-echo") return serve_tcp_echo(ready_fd, kMessageSize);
  if (kind == "tcp-bulk") return serve_tcp_bulk(ready_fd, kChunkSize);
  if (kind == "tcp-bulk-128k") return serve_tcp_bulk(ready_fd, kLargeWriteSize);
  if (kind == "rpc") return serve_rpc(ready_fd, plain);
  throw usage_error("unknown --serve kind '" + kind + "' (tcp-echo, tcp-bulk, tcp-bulk-128k, rpc)");
}

// iperf3 on the same loopback, a yardstick for the raw TCP baselines: one
// `iperf3 -s` for the group, one `iperf3 -c` per window. iperf3 is two
// processes like the benchmarks here, reads as much as it writes per call and
// does not set TCP_NODELAY.
class Iperf3 {
 public:
  // Starts the server and waits until it listens; nullopt, with a note on
  // stderr, if iperf3 is not installed or does not start.
  static std::optional<Iperf3> start(const Options& o) {
    std::uint16_t port = free_port();
    std::string log = (std::filesystem::temp_directory_path() /
                       ("rpc_bench_iperf3_" + std::to_string(::getpid()) + ".log"))
                          .string();
    SpawnOptions so;
    so.stdin_to = Redirect::null();
    so.stdout_to = Redirect::file(log);  // not a pipe: nobody drains it between windows
    so.stderr_to = Redirect::file(log, true);
    so.die_with_parent = true;
    Result<Subprocess> server = Subprocess::spawn(
        "iperf3", {"-s", "-p", std::to_string(port), "--forceflush"}, std::move(so));
    if (!server) {
      std::cerr << "rpc_bench: no iperf3 rows: " << server.error().what() << std::endl;
      return std::nullopt;
    }
    auto deadline = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      if (text.str().find("Server listening") != std::string::npos) break;
      if (!server->running() || Clock::now() > deadline) {
        std::cerr << "rpc_bench: no iperf3 rows: the iperf3 server did not start: " << text.str()
                  << std::endl;
        std::filesystem::remove(log);
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Iperf3(std::move(*server), port, std::move(log), o.server_cpu >= 0);
  }

  Iperf3(Iperf3&& other) noexcept
      : server_(std::move(other.server_)),
        port_(other.port_),
        log_(std::exchange(other.log_, std::string())),
        pinned_(other.pinned_) {}
  Iperf3& operator=(Iperf3&&) = delete;
  ~Iperf3() {
    if (log_.empty()) return;  // moved from
    server_.kill();
    std::error_code ignored;
    std::filesystem::remove(log_, ignored);
  }

  // Bytes per second the iperf3 server received from one `iperf3 -c` with
  // `write_size`-byte writes, warm-up (-O) excluded.
  double rate(std::size_t write_size, const Timing& timing) {
    auto whole_seconds = [](std::chrono::milliseconds ms, int least) {
      return std::to_string(std::max<long>(least, std::lround(std::ceil(ms.count() / 1000.0))));
    };
    std::vector<std::string> args{"-c", "127.0.0.1",
                                  "-p", std::to_string(port_),
                                  "-l", std::to_string(write_size / 1024) + "K",
                                  "-t", whole_seconds(timing.window, 1),
                                  "-O", whole_seconds(timing.warmup, 0),
                                  "-J"};
    if (pinned_) {  // as --pin does for the others: client on CPU 0, server on CPU 1
      args.push_back("-A");
      args.push_back("0,1");
    }
    SpawnOptions so;
    so.stdin_to = Redirect::null();
    Result<Output> out = Subprocess::run("iperf3", args, {}, std::move(so));
    if (!out) throw out.error();
    auto j = nlohmann::json::parse(out->out, nullptr, false);
    if (j.is_discarded() || j.contains("error") || !out->status.success()) {
      std::string why = j.is_object() && j.contains("error") ? j["error"].dump() : out->err;
      throw Error(Errc::kInternal, "iperf3 -c failed (" + out->status.to_string() + "): " + why);
    }
    const auto& received = j.at("end").at("sum_received");
    return received.at("bytes").get<double>() / received.at("seconds").get<double>();
  }

 private:
  Iperf3(Subprocess server, std::uint16_t port, std::string log, bool pinned)
      : server_(std::move(server)), port_(port), log_(std::move(log)), pinned_(pinned) {}

  // A port nothing listens on now (bound and released; iperf3 cannot take 0).
  static std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::address_v4::loopback(), 0});
    return a.local_endpoint().port();
  }

  Subprocess server_;
  std::uint16_t port_;
  std::string log_;
  bool pinned_;
};

ServerPeer start_server(const Options& o, const std::string& kind, bool plain = false) {
  std::vector<std::string> args{"--serve", kind, "--log-level", "warn"};
  if (plain) args.push_back("--plain");
  return ServerPeer::start(
      o.layout, args, [kind, plain](int ready_fd) { return serve(kind, plain, ready_fd); },
      o.server_cpu);
}

// One benchmark of a group: measures one window at a time.
struct Contender {
  std::string name;
  std::string unit;
  std::optional<std::string> baseline;
  std::function<double(const Timing&)> window;
};

// A second comparison of a contender's result: a row `name` whose value is
// the median of `of` and whose baseline is `baseline` (another limit).
struct Comparison {
  std::string name;
  std::string of;
  std::string baseline;
};

// Runs a group's benchmarks in turns: every round gives each one window (after
// its own short warm-up), so a slow spell of this shared machine falls on all
// of them alike and a ratio compares measurements taken seconds apart, not
// minutes. Each benchmark reports its median window; the spread of the
// per-round ratios goes to stderr.
std::map<std::string, double> take_turns(const std::vector<Contender>& group, const Options& o,
                                         const std::vector<Comparison>& also = {}) {
  std::map<std::string, std::vector<double>> rates;
  Timing one = o.timing;
  one.windows = 1;
  for (int round = 0; round < std::max(1, o.timing.windows); ++round) {
    for (const auto& c : group) rates[c.name].push_back(c.window(one));
  }
  std::map<std::string, double> medians;
  for (auto& [name, v] : rates) medians[name] = median(v);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& c : group) {
    if (c.baseline) pairs.emplace_back(c.name, *c.baseline);
  }
  for (const auto& c : also) pairs.emplace_back(c.of, c.baseline);
  for (const auto& [name, baseline] : pairs) {
    if (!rates.count(name) || !rates.count(baseline)) continue;
    const auto& mine = rates[name];
    const auto& base = rates[baseline];
    std::vector<double> ratios;
    for (std::size_t i = 0; i < mine.size(); ++i) ratios.push_back(mine[i] / base[i]);
    auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
    std::cerr << "rpc_bench: " << name << " / " << baseline << " per round: min " << *lo
              << ", median " << median(ratios) << ", max " << *hi << " (" << ratios.size()
              << " rounds)" << std::endl;
  }
  return medians;
}

// Runs the benchmarks, `only` (if not empty) selecting some by name. A row
// whose baseline was not run has no ratio.
int run_all(const Options& o, const std::vector<std::string>& only) {
  std::map<std::string, double> done;
  auto wanted = [&](const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };
  auto report = [&](const std::vector<Contender>& group, const std::map<std::string, double>& m,
                    const std::vector<Comparison>& also = {}) {
    for (const auto& c : group) {
      done[c.name] = m.at(c.name);
      Row row{c.name, m.at(c.name), c.unit, c.baseline, 0};
      if (c.baseline) {
        auto it = done.find(*c.baseline);
        row.baseline_value = it == done.end() ? 0 : it->second;
      }
      std::cout << to_json_line(row) << std::endl;
    }
    for (const auto& c : also) {
      if (!m.count(c.of) || !m.count(c.baseline)) continue;
      Row row{c.name, m.at(c.of), "MB/s", c.baseline, m.at(c.baseline)};
      std::cout << to_json_line(row) << std::endl;
    }
  };

  // Small calls against raw TCP ping-pong.
  {
    std::optional<ServerPeer> echo_server, rpc_server;
    std::optional<TcpPingPong> echo;
    std::optional<RpcClient> client;
    std::vector<Contender> group;
    if (wanted("tcp.pingpong")) {
      echo_server.emplace(start_server(o, "tcp-echo"));
      echo.emplace(echo_server->port(), kMessageSize);
      group.push_back({"tcp.pingpong", "round_trips/s", std::nullopt,
                       [&](const Timing& t) { return echo->rate(t); }});
    }
    if (wanted("rpc.call_serial") || wanted("rpc.call_pipelined")) {
      rpc_server.emplace(start_server(o, "rpc"));
      client.emplace(rpc_server->port(), false);
    }
    if (wanted("rpc.call_serial")) {
      group.push_back({"rpc.call_serial", "calls/s", "tcp.pingpong",
                       [&](const Timing& t) { return call_rate(*client, 1, t); }});
    }
    if (wanted("rpc.call_pipelined")) {
      group.push_back({"rpc.call_pipelined", "calls/s", "rpc.call_serial",
                       [&](const Timing& t) { return call_rate(*client, kPipelineDepth, t); }});
    }
    if (!group.empty()) report(group, take_turns(group, o));
    echo.reset();
    client.reset();
    if (echo_server) echo_server->finish();
    if (rpc_server) rpc_server->finish();
  }

  // Bulk data against a raw TCP stream, the raw stream against iperf3, and
  // the sealed stream against what one core can open.
  {
    std::optional<ServerPeer> bulk_server, large_server, sealed_server, plain_server;
    std::optional<TcpBulk> bulk, large;
    std::optional<RpcClient> sealed, plain;
    std::optional<Iperf3> iperf3 =
        wanted("iperf3.bulk_16k") || wanted("iperf3.bulk_128k") ? Iperf3::start(o) : std::nullopt;
    std::vector<Contender> group;
    std::vector<Comparison> also;
    if (iperf3 && wanted("iperf3.bulk_16k")) {
      group.push_back({"iperf3.bulk_16k", "MB/s", std::nullopt,
                       [&](const Timing& t) { return iperf3->rate(kChunkSize, t) / 1e6; }});
    }
    if (iperf3 && wanted("iperf3.bulk_128k")) {
      group.push_back({"iperf3.bulk_128k", "MB/s", std::nullopt,
                       [&](const Timing& t) { return iperf3->rate(kLargeWriteSize, t) / 1e6; }});
    }
    if (wanted("tcp.bulk")) {
      bulk_server.emplace(start_server(o, "tcp-bulk"));
      bulk.emplace(bulk_server->port(), kBulkReadSize);
      group.push_back({"tcp.bulk", "MB/s", "iperf3.bulk_16k",
                       [&](const Timing& t) { return bulk->rate(t) / 1e6; }});
    }
    if (wanted("tcp.bulk_128k")) {
      large_server.emplace(start_server(o, "tcp-bulk-128k"));
      large.emplace(large_server->port(), kBulkReadSize);
      group.push_back({"tcp.bulk_128k", "MB/s", "iperf3.bulk_128k",
                       [&](const Timing& t) { return large->rate(t) / 1e6; }});
    }
    if (wanted("rpc.data_bulk")) {
      sealed_server.emplace(start_server(o, "rpc"));
      sealed.emplace(sealed_server->port(), false);
      // The cipher the connection chose, opened by one core: the most a
      // receiver with one core can take, whatever the runtime does.
      Cipher cipher = sealed->connection()->cipher();
      std::string aead = "crypto.open_" + std::string(cipher_name(cipher));
      group.push_back(
          {aead, "MB/s", std::nullopt, [cipher](const Timing& t) {
             return measure_cipher(cipher, std::chrono::duration<double>(t.window).count()).open;
           }});
      group.push_back({"rpc.data_bulk", "MB/s", "tcp.bulk",
                       [&](const Timing& t) { return data_rate(*sealed, t) / 1e6; }});
      also.push_back({"rpc.data_bulk_vs_aead", "rpc.data_bulk", aead});
    }
    if (wanted("rpc.data_bulk_plain")) {
      plain_server.emplace(start_server(o, "rpc", true));
      plain.emplace(plain_server->port(), true);
      group.push_back({"rpc.data_bulk_plain", "MB/s", "tcp.bulk",
                       [&](const Timing& t) { return data_rate(*plain, t) / 1e6; }});
      // The runtime gathers queued payloads into large writes: set it beside
      // raw TCP with large writes too.
      also.push_back({"rpc.data_bulk_plain_vs_128k", "rpc.data_bulk_plain", "tcp.bulk_128k"});
    }
    if (!group.empty()) report(group, take_turns(group, o, also), also);
    iperf3.reset();
    bulk.reset();
    large.reset();
    sealed.reset();
    plain.reset();
    for (auto* s : {&bulk_server, &large_server, &sealed_server, &plain_server}) {
      if (*s) (*s)->finish();
    }
  }
  return kExitOk;
}

}  // namespace
}  // namespace peers::bench

int main(int argc, char** argv) {
  using namespace peers::bench;
  peers::ToolCli cli("rpc_bench", "Measures the RPC runtime on loopback against raw TCP.",
                     "rpc_bench --layout process --window-ms 1000 --windows 7");
  Options o;
  std::string layout = "process";
  std::string serve_kind;
  bool plain = false;
  int warmup_ms = 300, window_ms = 1000, windows = 7;
  auto& app = cli.app();
  app.add_option("--layout", layout, "Where the server side runs: process or thread")
      ->check(CLI::IsMember({"process", "thread"}));
  app.add_option("--warmup-ms", warmup_ms, "Warm-up before each measuring window");
  app.add_option("--window-ms", window_ms, "Length of one measuring window");
  app.add_option("--windows", windows,
                 "Windows per benchmark, taken in turns with the rest of its group; the median "
                 "is reported");
  bool pin = false;
  app.add_flag("--pin", pin, "Pin the client to CPU 0 and the server to CPU 1");
  std::vector<std::string> only;
  app.add_option("--only", only, "Run only these benchmarks (names as printed)");
  app.add_option("--serve", serve_kind,
                 "Internal: run a server side (tcp-echo, tcp-bulk, tcp-bulk-128k, rpc)");
  app.add_flag("--plain", plain, "Internal, with --serve rpc: allow unencrypted connections");
  return cli.run(argc, argv, [&] {
    if (!serve_kind.empty()) {
      // A server child ends with the benchmark process that started it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      return serve(serve_kind, plain, STDOUT_FILENO);
    }
    o.layout = layout == "thread" ? Layout::kThread : Layout::kProcess;
    o.timing.warmup = std::chrono::milliseconds(warmup_ms);
    o.timing.window = std::chrono::milliseconds(window_ms);
    o.timing.windows = windows;
    if (pin) {
      pin_to_cpu(0);
      o.server_cpu = 1;
    }
    return run_all(o, only);
  });
}
