#include "lib/overlay/peer_app.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "lib/crypto/key_file.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/log.h"
#include "lib/kernel/signals.h"
#include "lib/kernel/units.h"
#include "lib/overlay/inspect_service.h"
#include "lib/overlay/overlay_node.h"
#include "lib/rpc/node.h"
#include "lib/stream/chunker.h"
#include "lib/stream/playout_buffer.h"

namespace vt {

namespace asio = boost::asio;
using peers::Errc;
using peers::Error;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {
bool is_source_role(overlay::Role role) { return role == overlay::Role::kSource; }
}  // namespace

void add_peer_flags(CLI::App& app, PeerAppOptions& o, overlay::Role role) {
  o.role = role;
  bool source = role == overlay::Role::kSource;
  bool sink = role == overlay::Role::kSink;
  auto* listen = app.add_option("--listen", o.listen,
                                "Accept peers on HOST:PORT (port 0 picks one and logs it)");
  if (source) listen->required();
  if (!source) {
    app.add_option("--join", o.join, "A node of the stream to join through (repeatable)")
        ->required();
    app.add_option("--source-key", o.source_key, "Only accept the stream of this source peer id");
    app.add_option("--join-timeout", o.join_timeout,
                   "Give up (exit 1) when no node adopts this one for this long")
        ->capture_default_str();
  }
  app.add_option("--key", o.key,
                 source ? "Identity key file (vt-keygen); the stream's id is its peer id"
                        : "Identity key file (default: a fresh identity)")
      ->check(CLI::ExistingFile);
  if (source) app.get_option("--key")->required();
  if (source) {
    app.add_option("--input", o.input, "Read the stream from FILE (- = stdin)")
        ->capture_default_str();
    app.add_option("--stripes", o.stripes, "Number of stripes (trees), K")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--chunk-bytes", o.chunk_bytes, "Target chunk size")
        ->check(CLI::Range(1024, 512 * 1024))
        ->capture_default_str();
  }
  if (sink) {
    app.add_option("--output", o.output, "Write the stream to FILE (- = stdout)")
        ->capture_default_str();
    app.add_option("--buffer", o.buffer, "Playout buffer: how long to wait for a missing chunk")
        ->capture_default_str();
  }
  app.add_option("--upload", o.upload,
                 "Upload budget in bits/s (800k, 20M); 0 = upload nothing (pure viewer)");
  app.add_option("--max-children", o.max_children,
                 is_source_role(role) ? "Children per stripe (overrides --upload)"
                                      : "Children in all stripes together (overrides --upload)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--stream-rate", o.stream_rate,
                 "Assumed stream rate, to turn --upload into a number of children")
      ->capture_default_str();
  app.add_option("--stats-interval", o.stats_interval,
                 "Print a stats line to stderr every DURATION (1s, 500ms)");
  app.add_flag("--json", o.json, "Stats lines as JSON");
  app.add_option("--inspect-allow", o.inspect_allow,
                 "Answer vt-inspect only from this peer id (repeatable; default: anyone)");
  app.add_option("--linger", o.linger,
                 "After the end of the stream, keep serving repairs this long")
      ->capture_default_str();
}

namespace {

// Writes the sink's output on its own thread, so a slow reader never stalls
// the event loop. A reader that goes away (EPIPE) ends the sink cleanly.
class OutputWriter {
 public:
  explicit OutputWriter(int fd) : fd_(fd), thread_([this] { run(); }) {}
  ~OutputWriter() { finish(); }

  void write(std::string bytes) {
    std::lock_guard lock(mu_);
    queued_ += bytes.size();
    queue_.push_back(std::move(bytes));
    cv_.notify_one();
  }
  // No more writes: the thread writes what is queued, then ends. Does not
  // wait for it.
  void close() {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_one();
  }
  // close(), then waits until everything queued is written (or the reader
  // went away).
  void finish() {
    close();
    if (thread_.joinable()) thread_.join();
  }
  bool broken() const { return broken_.load(); }

 private:
  void run() {
    for (;;) {
      std::string next;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;
        next = std::move(queue_.front());
        queue_.pop_front();
        queued_ -= next.size();
      }
      if (broken_) continue;
      const char* p = next.data();
      std::size_t left = next.size();
      while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          broken_ = true;
          peers::log_warn("output closed by its reader; stopping",
                          {{"error", std::strerror(errno)}});
          peers::request_stop();
          break;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
      }
    }
  }

  int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;
  bool done_ = false;
  std::atomic<bool> broken_{false};
  std::thread thread_;
};

std::string rate_text(double bps) { return peers::format_rate(static_cast<std::uint64_t>(bps)); }

}  // namespace

int run_peer_app(const PeerAppOptions& o) {
  const bool is_source = o.role == overlay::Role::kSource;
  const bool is_sink = o.role == overlay::Role::kSink;
  auto join_timeout = peers::duration_flag("--join-timeout", o.join_timeout);
  auto linger = peers::duration_flag("--linger", o.linger);
  auto buffer = peers::duration_flag("--buffer", o.buffer);
  std::optional<std::chrono::microseconds> stats_every;
  if (!o.stats_interval.empty())
    stats_every = peers::duration_flag("--stats-interval", o.stats_interval);
  std::vector<peers::PeerId> inspect_allow;
  for (const auto& text : o.inspect_allow) {
    auto id = peers::PeerId::parse(text);
    if (!id) throw peers::usage_error("bad --inspect-allow: " + id.error().message());
    inspect_allow.push_back(*id);
  }
  std::optional<peers::PeerId> pinned;
  if (!o.source_key.empty()) {
    auto id = peers::PeerId::parse(o.source_key);
    if (!id) throw peers::usage_error("bad --source-key: " + id.error().message());
    pinned = *id;
  }
  // Children: the source counts them per stripe, everyone else in total
  // (a child in one stripe costs stream/K of upload). Defaults assume an
  // upload of about twice the stream rate for relays, once for sinks.
  std::uint32_t capacity = is_source ? 4 : is_sink ? 4 : 8;
  if (o.max_children >= 0) {
    capacity = static_cast<std::uint32_t>(o.max_children);
  } else if (!o.upload.empty()) {
    std::uint64_t upload = peers::rate_flag("--upload", o.upload);
    std::uint64_t stream = peers::rate_flag("--stream-rate", o.stream_rate);
    std::uint32_t k = is_source ? o.stripes : kDefaultStripes;
    // A child in one stripe costs stream/K of upload.
    capacity = stream == 0 ? 0 : static_cast<std::uint32_t>(upload * k / stream);
    if (is_source) capacity = std::max<std::uint32_t>(1, capacity / k);
  }

  // Identity.
  std::optional<peers::Identity> identity(peers::load_identity_or_fresh(o.key));

  // Input / output files are opened before anything else can fail late.
  int in_fd = -1, out_fd = -1;
  if (is_source) {
    // A FIFO is opened by the reader thread (open blocks until a writer
    // comes), so the source listens before its producer starts.
    struct stat st {};
    if (o.input != "-" && ::stat(o.input.c_str(), &st) != 0) {
      throw peers::usage_error("cannot read --input '" + o.input + "': " + std::strerror(errno));
    }
    if (o.input == "-") {
      in_fd = STDIN_FILENO;
    } else if (!S_ISFIFO(st.st_mode)) {
      in_fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
      if (in_fd < 0) {
        throw peers::usage_error("cannot read --input '" + o.input + "': " + std::strerror(errno));
      }
    }
  }
  if (is_sink) {
    out_fd = o.output == "-"
                 ? STDOUT_FILENO
                 : ::open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) {
      throw peers::usage_error("cannot write --output '" + o.output + "': " + std::strerror(errno));
    }
  }

  asio::io_context io(1);
  peers::rpc::NodeOptions nopts;
  nopts.keepalive_interval = 1s;
  nopts.idle_timeout = 5s;
  nopts.default_call_timeout = 5s;
  nopts.handshake_timeout = 2s;  // a frozen node must not stall a repair for long
  peers::rpc::Node rpc(io.get_executor(), std::move(*identity), nopts);

  OverlayConfig cfg;
  cfg.role = o.role;
  cfg.stripes = o.stripes;
  cfg.capacity = capacity;
  cfg.chunk_bytes = o.chunk_bytes;
  cfg.bootstrap = o.join;
  cfg.source_key = pinned;
  cfg.repair_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(join_timeout);
  auto node = std::make_shared<OverlayNode>(rpc, cfg);
  rpc.add_service(node);
  auto inspect = std::make_shared<InspectService>(
      rpc, node, InspectOptions{.tool = peers::log_tool(), .allow = inspect_allow});
  rpc.add_service(inspect);
  inspect->start();

  std::string listen = o.listen;
  if (listen.empty()) listen = "127.0.0.1:0";
  auto port = rpc.listen(listen);
  if (!port) throw peers::usage_error(port.error().message());
  peers::log_info("listening", {{"addr", rpc.listen_addr()},
                                {"peer", rpc.id().to_string()},
                                {"role", std::string(overlay::to_string(o.role))},
                                {"children_per_stripe", std::to_string(capacity)}});

  int exit_code = 0;
  bool stopping = false;
  auto stop = [&](int code) {
    if (stopping) return;
    stopping = true;
    exit_code = code;
    rpc.close();
    io.stop();
  };

  // End of stream: keep serving repairs a little, until children are fed.
  auto finish_after_linger = [&]() {
    asio::co_spawn(
        io,
        [&]() -> peers::rpc::Task<void> {
          auto until = steady_clock::now() + linger;
          asio::steady_timer t(io);
          while (steady_clock::now() < until || node->queued_to_children() > 0) {
            if (steady_clock::now() > until + 30s) break;
            t.expires_after(50ms);
            auto w = t.async_wait(asio::use_awaitable);
            co_await std::move(w);
          }
          stop(0);
        },
        asio::detached);
  };

  // Sink: reorder into the playout buffer, write in order.
  std::unique_ptr<OutputWriter> writer;
  std::optional<PlayoutBuffer> playout;
  asio::steady_timer playout_timer(io);
  bool output_done = false;
  // Where playing starts. A parent begins a new child's feed at the newest
  // random-access chunk of its stripe, or at the oldest one it holds, so a
  // late joiner's stripes begin at different seqs, and every stripe is
  // complete only from the highest of those, less K-1, on. Chunks therefore
  // wait until every stripe is joined: a sink there from the start (each
  // stripe begins below K) plays everything; a late one drops what comes
  // before that point and starts at the first random-access chunk after it,
  // so it writes a clean suffix of the stream.
  std::vector<Chunk> held_back;
  ChunkSeq play_floor = 0;
  auto start_playout = [&]() {
    ChunkSeq k = node->stripes();
    ChunkSeq highest = 0;
    for (std::uint32_t i = 0; i < k; ++i) {
      highest = std::max(highest, node->first_seq(i).value_or(0));
    }
    PlayoutOptions po;
    po.buffer = buffer;
    if (highest < k) {
      po.start = StartPolicy::kAtSeq;
      po.start_seq = 0;
    } else {
      play_floor = highest - (k - 1);
    }
    playout.emplace(PlayoutBuffer::create(po).value());
    std::sort(held_back.begin(), held_back.end(),
              [](const Chunk& a, const Chunk& b) { return a.seq < b.seq; });
    for (auto& c : held_back) {
      if (c.seq >= play_floor) playout->insert(std::move(c), steady_clock::now());
    }
    held_back.clear();
    peers::log_debug("playout starts", {{"from_seq", std::to_string(play_floor)}});
  };
  std::function<void()> drain_playout = [&]() {
    if (!playout) return;
    for (auto& c : playout->pop_ready(steady_clock::now())) {
      if (!c.payload.empty()) writer->write(std::move(c.payload));
    }
    if (playout->finished() && !output_done) {
      output_done = true;
      // The writer flushes on its own thread, waited for at exit: a slow
      // reader must not stall the loop (children, heartbeats, signals).
      writer->close();
      peers::log_info("end of stream", {{"bytes", std::to_string(playout->stats().released_bytes)},
                                        {"gaps", std::to_string(playout->stats().gaps)}});
      finish_after_linger();
    }
  };
  if (is_sink) {
    writer = std::make_unique<OutputWriter>(out_fd);
    node->on_chunk = [&](const Chunk& c) {
      if (!playout) {
        held_back.push_back(c);  // until every stripe is joined
        return;
      }
      if (c.seq >= play_floor) playout->insert(c, steady_clock::now());
      drain_playout();
    };
    asio::co_spawn(
        io,
        [&]() -> peers::rpc::Task<void> {
          for (;;) {
            playout_timer.expires_after(20ms);
            boost::system::error_code ec;
            auto w = playout_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_await std::move(w);
            if (ec) co_return;
            drain_playout();
          }
        },
        asio::detached);
  } else if (!is_source) {
    node->on_end = [&]() {
      peers::log_info("end of stream");
      finish_after_linger();
    };
  }
  inspect->playout_gaps = [&]() -> std::uint64_t { return playout ? playout->stats().gaps : 0; };
  node->on_lost = [&](const Error& e) {
    peers::print_failure(peers::log_tool(), "stream lost: " + e.message());
    stop(1);
  };

  // Source: read input on a thread, chunk and publish on the loop.
  std::thread reader;
  std::optional<Chunker> chunker;
  asio::steady_timer flush_timer(io);
  std::atomic<bool> reader_stop{false};
  if (is_source) {
    ChunkerOptions co;
    co.stripes = o.stripes;
    co.target_size = o.chunk_bytes;
    chunker.emplace(Chunker::create(co).value());
    reader = std::thread([&] {
      if (in_fd < 0) in_fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
      if (in_fd < 0) {
        peers::log_error("cannot read --input",
                         {{"file", o.input}, {"error", std::strerror(errno)}});
        asio::post(io, [&] { stop(1); });
        return;
      }
      std::string buf(64 * 1024, '\0');
      for (;;) {
        ssize_t n = ::read(in_fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (reader_stop) return;
        if (n <= 0) {
          asio::post(io, [&] {
            for (auto& c : chunker->finish(steady_clock::now())) node->publish(c);
            peers::log_info("end of input", {{"chunks", std::to_string(chunker->next_seq())}});
            finish_after_linger();
          });
          return;
        }
        asio::post(io, [&, data = std::string(buf.data(), static_cast<std::size_t>(n))] {
          for (auto& c : chunker->push(data, steady_clock::now())) node->publish(c);
        });
      }
    });
    asio::co_spawn(
        io,
        [&]() -> peers::rpc::Task<void> {
          for (;;) {
            flush_timer.expires_after(20ms);
            boost::system::error_code ec;
            auto w = flush_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_await std::move(w);
            if (ec) co_return;
            if (!chunker->finished()) {
              for (auto& c : chunker->poll(steady_clock::now())) node->publish(c);
            }
          }
        },
        asio::detached);
  } else {
    asio::co_spawn(
        io,
        [&]() -> peers::rpc::Task<void> {
          try {
            auto op =
                node->start(std::chrono::duration_cast<std::chrono::milliseconds>(join_timeout));
            co_await std::move(op);
            peers::log_info("joined all stripes", {{"stripes", std::to_string(node->stripes())}});
            if (is_sink) {
              start_playout();
              drain_playout();
            }
          } catch (const Error& e) {
            peers::print_failure(peers::log_tool(), "cannot join: " + e.message());
            stop(e.code() == Errc::kAuth ? 2 : 1);
          }
        },
        asio::detached);
  }

  // Stop signals: hand children over, then exit 0.
  asio::posix::stream_descriptor stop_pipe(io, ::dup(peers::stop_fd()));
  stop_pipe.async_wait(asio::posix::stream_descriptor::wait_read,
                       [&](boost::system::error_code ec) {
                         if (ec) return;
                         if (writer && writer->broken()) {
                           stop(0);
                           return;
                         }
                         peers::log_info("stopping: handing children over");
                         asio::co_spawn(
                             io,
                             [&]() -> peers::rpc::Task<void> {
                               auto op = node->leave();
                               co_await std::move(op);
                               stop(0);
                             },
                             asio::detached);
                       });

  // Stats lines.
  asio::steady_timer stats_timer(io);
  if (stats_every) {
    asio::co_spawn(
        io,
        [&]() -> peers::rpc::Task<void> {
          auto last = node->stats();
          auto last_t = steady_clock::now();
          for (;;) {
            stats_timer.expires_after(*stats_every);
            boost::system::error_code ec;
            auto w = stats_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_await std::move(w);
            if (ec) co_return;
            auto now_t = steady_clock::now();
            double secs = std::chrono::duration<double>(now_t - last_t).count();
            auto st = node->stats();
            double in_bps = (st.bytes_in - last.bytes_in) * 8 / secs;
            double out_bps = (st.bytes_out - last.bytes_out) * 8 / secs;
            last = st;
            last_t = now_t;
            std::size_t children = 0, parents = 0;
            std::string per_stripe;
            for (const auto& s : node->stripe_status()) {
              children += s.children;
              if (!s.parent.empty()) ++parents;
              if (!per_stripe.empty()) per_stripe += ",";
              per_stripe += "{\"stripe\":" + std::to_string(s.stripe) +
                            ",\"parent\":" + peers::json_quote(s.parent) +
                            ",\"children\":" + std::to_string(s.children) +
                            ",\"interior\":" + (s.interior ? "true" : "false") +
                            ",\"repairs\":" + std::to_string(s.repairs) + "}";
            }
            std::uint64_t gaps = playout ? playout->stats().gaps : 0;
            char line[512];
            if (o.json) {
              std::snprintf(line, sizeof line,
                            "{\"event\":\"stats\",\"time\":%.3f,\"data\":{\"tool\":%s,"
                            "\"peer\":%s,\"rate_in_bps\":%.0f,\"rate_out_bps\":%.0f,"
                            "\"children\":%zu,\"parents\":%zu,\"gaps\":%llu,\"rejected\":%llu,"
                            "\"rtt_ms\":%.3f,\"stripes\":[",
                            peers::wall_seconds(), peers::json_quote(peers::log_tool()).c_str(),
                            peers::json_quote(rpc.id().short_id()).c_str(), in_bps, out_bps,
                            children, parents, static_cast<unsigned long long>(gaps),
                            static_cast<unsigned long long>(st.rejected), st.rtt_ms);
              std::string out = std::string(line) + per_stripe + "]}}\n";
              std::fputs(out.c_str(), stderr);
            } else {
              std::snprintf(line, sizeof line,
                            "%s: stats in=%s out=%s children=%zu parents=%zu/%u gaps=%llu "
                            "rejected=%llu rtt=%.2fms\n",
                            peers::log_tool().c_str(), rate_text(in_bps).c_str(),
                            rate_text(out_bps).c_str(), children, parents, node->stripes(),
                            static_cast<unsigned long long>(gaps),
                            static_cast<unsigned long long>(st.rejected), st.rtt_ms);
              std::fputs(line, stderr);
            }
          }
        },
        asio::detached);
  }

  io.run();

  // Shut down the threads we own.
  if (reader.joinable()) {
    reader_stop = true;
    // A reader blocked on stdin cannot be interrupted portably; detach it,
    // the process is about to exit.
    reader.detach();
  }
  if (writer) writer->finish();
  if (is_sink && writer && !writer->broken() && exit_code == 0 && playout && !playout->finished() &&
      !stopping) {
    exit_code = 1;
  }
  return exit_code;
}

}  // namespace vt
