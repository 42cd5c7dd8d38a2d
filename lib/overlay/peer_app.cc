#include "lib/overlay/peer_app.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/crypto/key_file.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/log.h"
#include "lib/kernel/signals.h"
#include "lib/kernel/timer.h"
#include "lib/overlay/inspect_service.h"
#include "lib/overlay/join_link.h"
#include "lib/overlay/overlay_node.h"
#include "lib/overlay/sink_output.h"
#include "lib/overlay/source_input.h"
#include "lib/overlay/stats_reporter.h"
#include "lib/rpc/node.h"

namespace vt {

namespace asio = boost::asio;
using peers::Errc;
using peers::Error;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// --stats-file: "" = none, "-" = stdout, else a file created or truncated.
std::FILE* open_stats_file(const std::string& path) {
  if (path.empty()) return nullptr;
  if (path == "-") return stdout;
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (!f) {
    throw peers::usage_error("--stats-file: cannot write '" + path + "': " + std::strerror(errno));
  }
  return f;
}
}  // namespace

void add_peer_flags(CLI::App& app, PeerAppOptions& o, overlay::Role role) {
  o.role = role;
  bool source = role == overlay::Role::kSource;
  bool sink = role == overlay::Role::kSink;
  auto listening = CLI::Validator(
      [](std::string& text) { return address_problem(text, /*dialing=*/false); }, "", "address");
  // A node to join through: HOST:PORT, or a join link (checked when the
  // link is read: a bad one is a usage error too).
  auto dialing = CLI::Validator(
      [](std::string& text) {
        return text.rfind("vt://", 0) == 0 ? std::string() : address_problem(text, true);
      },
      "", "address");
  auto* listen = app.add_option("--listen", o.listen,
                                "Accept peers on HOST:PORT (port 0 picks one and logs it; "
                                "default: all interfaces, a port chosen by the system)")
                     ->option_text("HOST:PORT")
                     ->check(listening);
  if (source) listen->required();
  if (!source) {
    app.add_option("link", o.link,
                   "The join link vt-source printed (vt://HOST:PORT[,HOST:PORT...]/vt1...): "
                   "where to join, and the source to accept")
        ->option_text("LINK");
    app.add_option("--join", o.join,
                   "A node of the stream to join through, HOST:PORT or a join link (repeatable)")
        ->option_text("HOST:PORT")
        ->check(dialing);
    app.add_option("--source-key", o.source_key, "Only accept the stream of this source peer id")
        ->option_text("PEER_ID");
    app.add_option("--join-timeout", o.join_timeout,
                   "Give up (exit 1) when no node adopts this one for this long")
        ->option_text("DURATION")
        ->capture_default_str();
    app.add_option("--repair-timeout", o.repair_timeout,
                   "Keep trying every known node this long after losing a parent, then exit 1")
        ->option_text("DURATION")
        ->capture_default_str();
    app.add_option("--start", o.start,
                   "Where a new feed begins: live (the newest random-access point) or oldest")
        ->option_text("live|oldest")
        ->capture_default_str();
  }
  app.add_option("--announce", o.announce,
                 "Tell peers HOST:PORT as this node's address (a port forwarded by hand)")
      ->option_text("HOST:PORT");
  app.add_option("--key", o.key,
                 source ? "Identity key file (vt-keygen); the stream's id is its peer id"
                        : "Identity key file (default: a fresh identity)")
      ->option_text("FILE")
      ->check(CLI::ExistingFile);
  if (source) app.get_option("--key")->required();
  if (source) {
    app.add_option("--input", o.input, "Read the stream from FILE (- = stdin)")
        ->option_text("FILE")
        ->capture_default_str();
    app.add_flag("--realtime", o.realtime,
                 "Send MPEG-TS at the pace of its own clock (PCR), so a recorded file "
                 "streams like a live one (as ffmpeg -re would)");
    app.add_option("--stripes", o.stripes,
                   "Number of stripes (trees), K, from 1 to " + std::to_string(kMaxFlagStripes))
        ->option_text("K")
        ->check(CLI::Range(1u, kMaxFlagStripes))
        ->capture_default_str();
    app.add_option("--chunk-bytes", o.chunk_bytes,
                   "Target chunk size in bytes, from " + std::to_string(kMinFlagChunkBytes) +
                       " to " + std::to_string(kMaxFlagChunkBytes))
        ->option_text("BYTES")
        ->check(CLI::Range(kMinFlagChunkBytes, kMaxFlagChunkBytes))
        ->capture_default_str();
  }
  if (sink) {
    app.add_option("--output", o.output, "Write the stream to FILE (- = stdout)")
        ->option_text("FILE")
        ->capture_default_str();
    app.add_option("--buffer", o.buffer,
                   "Playout buffer: how long to wait for a lost chunk (one whose stripe "
                   "went past it); a late one (its stripe lags or repairs) is waited for "
                   "4 times as long")
        ->option_text("DURATION")
        ->capture_default_str();
  }
  app.add_option("--upload", o.upload,
                 source ? "Uplink ceiling in bits/s (800k, 20M): the source feeds as many "
                          "children per stripe as its uplink is measured to carry, never "
                          "more than this allows (default: no ceiling)"
                        : "Uplink ceiling in bits/s (800k, 20M): children are sized by what the "
                          "uplink is measured to carry, never above this; 0 = relay nothing, "
                          "a leaf in every stripe (default: no ceiling)")
      ->option_text("RATE");
  // One name, one meaning: --max-children counts children in all stripes
  // together; the source, root of every stripe, counts them per stripe
  // under its own name (--max-children stays there as an alias).
  if (source) {
    app.add_option("--children-per-stripe", o.max_children,
                   "Children in each stripe, from 0 to 1024 (overrides --upload)")
        ->option_text("N")
        ->check(CLI::Range(0, 1024));
    app.add_option("--max-children", o.max_children,
                   "The old name of --children-per-stripe (on relays and sinks it counts "
                   "all stripes together)")
        ->option_text("N")
        ->check(CLI::Range(0, 1024));
  } else {
    app.add_option("--max-children", o.max_children,
                   "Children in all stripes together, from 0 to 1024 (overrides --upload)")
        ->option_text("N")
        ->check(CLI::Range(0, 1024));
  }
  app.add_option("--stream-rate", o.stream_rate, "Stream rate assumed until it is measured")
      ->option_text("RATE")
      ->capture_default_str();
  app.add_option("--stats-interval", o.stats_interval,
                 "Write a stats record every DURATION (1s, 500ms): a text line on stderr, or "
                 "JSON (--json, --stats-file)")
      ->option_text("DURATION");
  app.add_option("--stats-file", o.stats_file,
                 "Write stats as JSON lines to PATH (- = stdout), apart from the logs; every "
                 "1s unless --stats-interval says otherwise")
      ->option_text("PATH");
  app.add_flag("--json", o.json,
               "Stats as JSON lines; without --stats-file they go to stderr and the logs "
               "there become JSON lines too");
  app.add_option("--inspect-allow", o.inspect_allow,
                 "Answer vt-inspect only from this peer id (repeatable; default: anyone)")
      ->option_text("PEER_ID");
  struct Limit {
    const char* flag;
    std::uint32_t* value;
    const char* what;
  };
  for (const Limit& l : {
           Limit{"--max-connections", &o.max_connections,
                 "Accept at most N connections in all (also held below the open-file limit)"},
           Limit{"--max-handshakes", &o.max_handshakes,
                 "Accept at most N connections that have not proved who they are yet"},
           Limit{"--max-per-address", &o.max_per_address,
                 "Accept at most N connections from one IP address (loopback is not limited)"},
       }) {
    app.add_option(l.flag, *l.value, l.what)
        ->option_text("N")
        ->check(CLI::Range(1u, 1000000u))
        ->capture_default_str();
  }
  app.add_option("--linger", o.linger,
                 "After the end of the stream, keep serving repairs this long")
      ->option_text("DURATION")
      ->capture_default_str();
}

namespace {

// How a run ends. stop() closes the node and ends the loop with an exit
// code (the first one wins). At the end of the stream, linger_then_stop()
// keeps serving repairs for --linger, and longer while children still have
// chunks queued (at most 30 s more). A stop signal (SIGINT, SIGTERM, or a
// sink whose reader went away) hands the children over, then stops with 0.
class Shutdown {
 public:
  // How long each connection may take to finish its calls after our GOAWAY
  // (a heartbeat in flight) when leaving: short, a stop must be prompt.
  static constexpr std::chrono::milliseconds kGoodbyeGrace{300};

  Shutdown(asio::io_context& io, peers::rpc::Node& rpc, OverlayNode& node,
           std::chrono::microseconds linger)
      : io_(io), rpc_(rpc), node_(node), linger_(linger), stop_pipe_(io, ::dup(peers::stop_fd())) {}

  // reason: how the run ended, for the final summary.
  void stop(int code, std::string reason) {
    if (stopping_) return;
    stopping_ = true;
    exit_code_ = code;
    reason_ = std::move(reason);
    // Closing fails every feed: that is the end, not a parent to repair.
    node_.stop();
    // The loop stops once every connection has closed: a close still queued
    // on a busy connection's strand would never run, and that connection and
    // its channels would hold each other past the end (a leak at exit).
    asio::co_spawn(
        io_,
        [this]() -> peers::rpc::Task<void> {
          auto op = rpc_.close_and_wait();
          co_await std::move(op);
          io_.stop();
        },
        asio::detached);
  }

  void linger_then_stop() {
    asio::co_spawn(
        io_,
        [this]() -> peers::rpc::Task<void> {
          auto until = peers::Clock::now() + linger_;
          peers::Timer t(io_);
          while (peers::Clock::now() < until || node_.queued_to_children() > 0) {
            if (peers::Clock::now() > until + 30s) break;
            t.expires_after(50ms);
            auto w = t.async_wait(asio::use_awaitable);
            co_await std::move(w);
          }
          stop(0, "end of stream");
        },
        asio::detached);
  }

  // output_broken: the sink's reader went away (then there is nobody to
  // hand over to gracefully: stop at once).
  void on_stop_signal(std::function<bool()> output_broken) {
    output_broken_ = std::move(output_broken);
    stop_pipe_.async_wait(
        asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
          if (ec) return;
          if (output_broken_ && output_broken_()) {
            stop(0, "output closed by its reader");
            return;
          }
          std::string why = stop_reason();
          std::size_t children = 0;
          for (const auto& s : node_.stripe_status()) children += s.children;
          if (children > 0) {
            peers::log_info("stopping: handing children over",
                            {{"why", why}, {"children", std::to_string(children)}});
          } else {
            peers::log_info("stopping", {{"why", why}});
          }
          leave_reason_ = why;
          asio::co_spawn(
              io_,
              [this]() -> peers::rpc::Task<void> {
                auto op = node_.leave();
                co_await std::move(op);
                // GOAWAY to every peer, so parents log a leave, not a
                // failed feed.
                auto bye = rpc_.shutdown(kGoodbyeGrace);
                co_await std::move(bye);
                stop(0, leave_reason_);
              },
              asio::detached);
        });
  }

  int exit_code() const { return exit_code_; }
  bool stopping() const { return stopping_; }
  const std::string& reason() const { return reason_; }

  // "stopped by SIGINT", "stopped by SIGTERM", or "stop requested".
  static std::string stop_reason() {
    switch (peers::stop_signal()) {
      case SIGINT:
        return "stopped by SIGINT";
      case SIGTERM:
        return "stopped by SIGTERM";
      default:
        return "stop requested";
    }
  }

 private:
  asio::io_context& io_;
  peers::rpc::Node& rpc_;
  OverlayNode& node_;
  std::chrono::microseconds linger_;
  asio::posix::stream_descriptor stop_pipe_;
  std::function<bool()> output_broken_;
  int exit_code_ = 0;
  bool stopping_ = false;
  std::string reason_;
  std::string leave_reason_;
};

peers::rpc::NodeOptions node_options() {
  peers::rpc::NodeOptions nopts;
  nopts.keepalive_interval = 1s;
  // A connection is closed after this long without input, or with a write
  // stalled this long: a congested uplink is not a dead peer (frozen parents
  // are caught by the overlay's heartbeats within a second or two).
  nopts.idle_timeout = 15s;
  nopts.default_call_timeout = 5s;
  nopts.handshake_timeout = 2s;  // a frozen node must not stall a repair for long
  return nopts;
}

OverlayConfig overlay_config(const PeerAppOptions& o, const PeerConfig& c) {
  OverlayConfig cfg;
  cfg.role = o.role;
  cfg.stripes = o.stripes;
  cfg.capacity = c.capacity;
  cfg.chunk_bytes = o.chunk_bytes;
  cfg.bootstrap = c.join;
  cfg.source_key = c.source_key;
  cfg.repair_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(c.repair_timeout);
  cfg.upload_ceiling_bps = c.upload_bps;
  cfg.assumed_stream_bps = c.stream_bps;
  cfg.cap_follows_stream = c.capacity_from_upload;
  cfg.start_oldest = c.start_oldest;
  return cfg;
}

// Asks the nodes this one dialed, one after another until one can tell
// (one may be busy with another node's dial-back), to dial it back, and
// logs the verdict: whether others can reach it at the address it
// advertises (rpc::Node::check_reachable). When none can tell yet (at the
// start a node has dialed only the one it joined through, which may be
// checking another newcomer), it asks again after 1, 2, 4 and 8 s, with the
// nodes it has dialed by then: a firewalled relay that stayed "unknown" in
// the lab was handed out as a parent for the whole stream.
void check_reachable(asio::io_context& io, peers::rpc::Node& rpc) {
  asio::co_spawn(
      io,
      [&io, &rpc]() -> peers::rpc::Task<void> {
        using State = peers::rpc::Reachability::State;
        peers::rpc::Reachability r;
        std::string by;
        auto pause = std::chrono::seconds(1);
        for (int round = 0; round < 5; ++round) {
          if (round > 0) {
            peers::Timer t(io.get_executor(), pause);
            boost::system::error_code ec;
            auto wait = t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_await std::move(wait);
            pause *= 2;
          }
          std::vector<std::shared_ptr<peers::rpc::Connection>> asked;
          for (const auto& c : rpc.connections()) {
            if (c->is_open() && c->outbound()) asked.push_back(c);
          }
          for (const auto& via : asked) {
            auto op = rpc.check_reachable(via);
            r = co_await std::move(op);
            by = via->peer().short_id();
            if (r.state != State::kUnknown) break;
          }
          if (r.state != State::kUnknown) break;
        }
        peers::log_info(r.state == State::kReachable ? "reachable"
                        : r.state == State::kUnreachable
                            ? "not reachable: peers cannot dial this node"
                            : "reachability unknown",
                        {{"addr", r.addr}, {"reason", r.reason}, {"asked", by}});
      },
      asio::detached);
}

// Relays and sinks: join every stripe; a sink then starts playing.
void start_joining(asio::io_context& io, peers::rpc::Node& rpc, OverlayNode& node,
                   const PeerConfig& c, SinkOutput* sink, Shutdown& shutdown) {
  // Whether others can dial this node is asked while it joins, not after:
  // a node behind a firewall would otherwise be handed out as a parent
  // others cannot reach for the whole join (its heartbeats then tell its
  // parents, Heartbeat.undialable).
  node.on_stream_found = [&io, &rpc] { check_reachable(io, rpc); };
  asio::co_spawn(
      io,
      [&node, &c, sink, &shutdown]() -> peers::rpc::Task<void> {
        try {
          auto op =
              node.start(std::chrono::duration_cast<std::chrono::milliseconds>(c.join_timeout));
          co_await std::move(op);
          peers::log_info("joined all stripes", {{"stripes", std::to_string(node.stripes())}});
          if (sink) {
            sink->start_playout();
            sink->drain();
          }
        } catch (const Error& e) {
          peers::print_failure(peers::log_tool(), "cannot join: " + e.message());
          shutdown.stop(e.code() == Errc::kAuth ? 2 : 1, "cannot join: " + e.message());
        }
      },
      asio::detached);
}

}  // namespace

int run_peer_app(const PeerAppOptions& o) {
  // JSON stats on stderr: the logs there become JSON lines too, so a reader
  // of stderr (jq) meets nothing else, from the first line (a mistake in
  // the flags) on.
  if (o.json && o.stats_file.empty()) peers::log_set_format(peers::LogFormat::kJson);
  const PeerConfig c = make_peer_config(o);
  std::optional<peers::Identity> identity(peers::load_identity_or_fresh(o.key));
  // Input and output files are opened before anything else can fail late.
  int in_fd = c.is_source ? open_source_input(o.input) : -1;
  int out_fd = c.is_sink ? open_sink_output(o.output) : -1;
  std::FILE* stats_out = open_stats_file(o.stats_file);

  asio::io_context io(1);
  peers::rpc::NodeOptions nopts = node_options();
  nopts.announce = o.announce;
  nopts.max_handshakes = o.max_handshakes;
  nopts.max_connections_per_address = o.max_per_address;
  // Descriptors run out before the connection limit would: keep some for
  // dialing, files and the listener.
  nopts.max_connections = o.max_connections;
  if (struct rlimit rl;
      getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 128) {
    nopts.max_connections =
        std::min<std::size_t>(nopts.max_connections, static_cast<std::size_t>(rl.rlim_cur) - 64);
  }
  peers::rpc::Node rpc(io.get_executor(), std::move(*identity), nopts);
  auto node = std::make_shared<OverlayNode>(rpc, overlay_config(o, c));
  rpc.add_service(node);
  // A peer that said GOAWAY and closed has left: its parent says so at once
  // rather than waiting for its heartbeats to be missed.
  rpc.on_disconnect([&io, weak = std::weak_ptr<OverlayNode>(node)](
                        const std::shared_ptr<peers::rpc::Connection>& conn, const Error& why) {
    if (why.message() != "peer left") return;
    asio::post(io, [weak, id = conn->peer()] {
      if (auto n = weak.lock()) n->peer_left(id);
    });
  });
  rpc.on_punch_request([weak = std::weak_ptr<OverlayNode>(node)](const peers::PeerId& asker,
                                                                 const peers::PeerId& joiner) {
    auto n = weak.lock();
    return n && n->expects_punch(asker, joiner);
  });
  auto inspect = std::make_shared<InspectService>(
      rpc, node, InspectOptions{.tool = peers::log_tool(), .allow = c.inspect_allow});
  rpc.add_service(inspect);
  inspect->start();

  std::string listen = o.listen;
  // All interfaces: each peer is told an address it can use (rpc/address.h).
  if (listen.empty()) listen = "0.0.0.0:0";
  auto port = rpc.listen(listen);
  if (!port) throw peers::usage_error(port.error().message());
  peers::log_info("listening", {{"addr", rpc.listen_addr()},
                                {"peer", rpc.id().to_string()},
                                {"role", std::string(overlay::to_string(o.role))},
                                // One name, one meaning, as the flags.
                                {c.is_source ? "children_per_stripe" : "max_children",
                                 std::to_string(c.capacity)}});

  if (c.is_source) {
    auto link = format_join_link(
        peers::rpc::link_addresses(peers::rpc::parse_host_port(rpc.listen_addr()).value(),
                                   o.announce, peers::rpc::interface_addresses()),
        rpc.id());
    // One line to paste (vt-sink LINK); JSON logs get it as a field.
    if (peers::log_format() == peers::LogFormat::kText) {
      std::fprintf(stderr, "%s: join link: %s\n", peers::log_tool().c_str(), link.c_str());
    } else {
      peers::log_info("join link", {{"link", link}});
    }
  } else if (!c.source_key) {
    peers::log_warn(
        "the source is not verified: any node can feed this one a stream (pin it with a "
        "join link or --source-key)");
  }

  Shutdown shutdown(io, rpc, *node, c.linger);
  StatsReporter stats(io, *node,
                      {.peer = rpc.id().short_id(),
                       .every = c.stats_every,
                       .json = o.json || stats_out != nullptr,
                       .out = stats_out});

  // The role's part: a sink plays, a relay lingers after the end, the
  // source reads its input.
  std::unique_ptr<SinkOutput> sink;
  if (c.is_sink) {
    sink = std::make_unique<SinkOutput>(io, *node, out_fd, c.buffer,
                                        [&] { shutdown.linger_then_stop(); });
    sink->start();
  } else if (!c.is_source) {
    node->on_end = [&]() {
      peers::log_info("end of stream");
      shutdown.linger_then_stop();
    };
  }
  inspect->playout_gaps = [&]() -> std::uint64_t { return sink ? sink->gaps() : 0; };
  node->on_lost = [&](const Error& e) {
    peers::print_failure(peers::log_tool(), "stream lost: " + e.message());
    shutdown.stop(1, "stream lost: " + e.message());
  };
  std::unique_ptr<SourceInput> input;
  if (c.is_source) {
    ChunkerOptions co;
    co.stripes = o.stripes;
    co.target_size = o.chunk_bytes;
    input = std::make_unique<SourceInput>(
        io, *node, o.input, in_fd, co, o.realtime, [&] { shutdown.linger_then_stop(); },
        [&] { shutdown.stop(1, "cannot read --input"); });
    input->start();
  } else {
    start_joining(io, rpc, *node, c, sink.get(), shutdown);
  }

  shutdown.on_stop_signal([&] { return sink && sink->broken(); });

  if (sink) stats.playout = [&] { return sink->level(); };
  if (input) stats.input_bytes = [&] { return input->bytes_read(); };
  stats.start();

  try {
    io.run();
  } catch (const std::exception& e) {
    // A failure the loop could not handle still ends with a summary.
    if (input) input->abandon();
    if (sink) sink->finish();
    stats.summary(std::string("failed: ") + e.what(), peers::kExitFailure);
    throw;
  }

  // Shut down the threads we own.
  if (input) input->abandon();
  int exit_code = shutdown.exit_code();
  std::string reason = shutdown.reason();
  if (sink) {
    sink->finish();
    if (!sink->broken() && exit_code == 0 && sink->incomplete() && !shutdown.stopping()) {
      exit_code = 1;
      reason = "stream ended incomplete";
    }
  }
  if (reason.empty()) reason = exit_code == 0 ? "end of stream" : "failed";
  stats.summary(reason, exit_code);
  if (stats_out && stats_out != stdout) std::fclose(stats_out);
  return exit_code;
}

}  // namespace vt
