// FakeRelay: a relay that lies, for the overlay's integration tests. It
// joins the real source as an ordinary leaf child, so it holds the real,
// correctly signed chunks of every stripe, and serves the Overlay interface
// so that a real vt-sink pointed at it adopts it as its parent; then it feeds
// each child what that child's FeedScript says: doctored chunks, duplicates
// and replays, or nothing at all (a black hole).
//
//   FakeRelayHost fake;                 // listens on loopback, own thread
//   fake.join_source(source.addr);
//   fake.relay().set_script(sink_id, {.silent = true});
#pragma once

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/crypto/peer_id.h"
#include "lib/rpc/node.h"
#include "lib/stream/history.h"
#include "lib/stream/signed_chunk.h"
#include "proto/overlay.pidl.rpc.h"

namespace vt::test {

namespace fake_detail {
namespace asio = boost::asio;
namespace overlay = vt::overlay;
using peers::Errc;
using peers::Error;
using peers::rpc::Answer;
using peers::rpc::CallContext;
using peers::rpc::CallOptions;
using peers::rpc::Task;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------ the fake relay

// What the fake relay does to the feed of one child.
enum class Tamper {
  kNone,
  // A chunk signed by another identity, with the stream's own tag in its
  // header: a forgery that claims to belong to the stream.
  kForeignSigner,
  // A real chunk with one bit of its signature flipped.
  kFlippedSignature,
  // A chunk of another stream: signed by another key, with that key's tag.
  kOtherStream,
};

struct FeedScript {
  // Replaces the real chunk at position `at` of `stripe` (counted from the
  // stripe's first chunk) with a doctored chunk of the same seq.
  Tamper tamper = Tamper::kNone;
  std::uint32_t stripe = 0;
  std::size_t at = 3;
  // Sends every real chunk twice, each pair in swapped order, and replays
  // older chunks of the stripe.
  bool shuffle = false;
  // A black hole: answers the feed, heartbeats and joins, sends no chunk.
  bool silent = false;
  // Stripes in which it refuses this child (Full), so the child joins them
  // elsewhere.
  std::set<std::uint32_t> refuse_stripes;
};

// Where the stream tag sits in a signed chunk's header (docs/stream.md).
constexpr std::size_t kStreamTagOffset = 20;

inline Task<void> sleep_for(Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  auto wait = t.async_wait(asio::use_awaitable);
  co_await std::move(wait);
}

// A relay that lies. It joins the real source as an ordinary leaf child, so
// it holds the real, correctly signed chunks of every stripe, and serves the
// Overlay interface so that a real vt-sink pointed at it adopts it as its
// parent in every stripe; then it feeds that sink what its FeedScript says.
// Runs on one event-loop thread (FakeRelayHost); the test thread only sets
// scripts and reads the observations, under mu_.
class FakeRelay : public overlay::OverlayServer, public std::enable_shared_from_this<FakeRelay> {
 public:
  explicit FakeRelay(peers::rpc::Node& rpc) : rpc_(rpc) {}

  void set_script(const std::string& peer_id, FeedScript script) {
    std::lock_guard lock(mu_);
    scripts_[peer_id] = script;
  }
  bool disconnected(const std::string& peer_id) {
    std::lock_guard lock(mu_);
    return disconnected_.count(peer_id) > 0;
  }
  int feeds_served(const std::string& peer_id) {
    std::lock_guard lock(mu_);
    return feeds_[peer_id];
  }
  int tampered_sent() const { return tampered_sent_.load(); }
  // Shuffled feeds: chunks sent once, and sends of a chunk already sent.
  int originals_sent() const { return originals_sent_.load(); }
  int duplicates_sent() const { return duplicates_sent_.load(); }
  // Chunks from the source that were not the next one of their stripe, or
  // failed verification: the fake's own view of the stream was wrong.
  int source_errors() const { return source_errors_.load(); }

  void note_disconnect(const std::string& peer_id) {
    std::lock_guard lock(mu_);
    disconnected_.insert(peer_id);
  }
  void stop() { stopping_ = true; }

  // Learns the stream from the source and joins every stripe as a leaf.
  Task<void> join_source(std::string addr) {
    auto cop = rpc_.connect(addr);
    source_conn_ = co_await std::move(cop);
    overlay::OverlayClient client(source_conn_);
    auto sop = client.stream();
    overlay::StreamInfo info = co_await std::move(sop);
    auto source_id = peers::PeerId::parse(info.source_id);
    if (!source_id) throw Error(Errc::kProtocol, "bad source id");
    stream_key_ = source_id->public_key();
    stripes_.resize(info.stripes);
    for (std::uint32_t i = 0; i < info.stripes; ++i) {
      overlay::JoinRequest req;
      req.stripe = i;
      // Capacity 0: the source never routes another joiner through it.
      req.joiner = self_info(0, overlay::Role::kSink);
      auto jop = client.join(req);
      overlay::JoinReply reply = co_await std::move(jop);
      if (reply.parent.id != info.source_id) {
        throw Error(Errc::kInternal, "the source placed the fake relay below another node");
      }
      source_info_ = reply.parent;
      overlay::FeedRequest freq;
      freq.stripe = i;
      freq.ticket = reply.ticket;
      auto fop = client.feed(freq);
      auto [freply, channel] = co_await std::move(fop);
      auto self = shared_from_this();
      std::uint32_t k = info.stripes;
      asio::co_spawn(
          rpc_.executor(),
          // An init-capture: clang 14 cannot capture a structured binding.
          [self, i, k, ch = channel]() -> Task<void> {
            auto op = self->read_source(i, k, ch);
            co_await std::move(op);
          },
          asio::detached);
      asio::co_spawn(
          rpc_.executor(),
          [self, i]() -> Task<void> {
            auto op = self->heartbeat_source(i);
            co_await std::move(op);
          },
          asio::detached);
    }
    stream_ = info;  // from now on it answers stream() and join()
  }

  // Overlay service, as the sink sees it.
  Task<Answer<overlay::StreamInfo>> stream(CallContext& ctx) override {
    if (stream_.stripes == 0) throw overlay::NotInTree("not part of a stream yet", 0);
    co_return stream_;
  }

  Task<Answer<overlay::JoinReply>> join(CallContext& ctx, overlay::JoinRequest req) override {
    if (stream_.stripes == 0 || req.stripe >= stream_.stripes) {
      throw overlay::NotInTree("not in this stripe", req.stripe);
    }
    {
      std::lock_guard lock(mu_);
      if (scripts_[ctx.peer().to_string()].refuse_stripes.count(req.stripe)) {
        throw overlay::Full("the fake refuses this stripe", req.stripe);
      }
    }
    overlay::JoinReply reply;
    reply.stripe = req.stripe;
    // A large capacity: no child ever wants to move up past it.
    reply.parent = self_info(64, overlay::Role::kRelay);
    reply.path = {source_info_};
    reply.stream = stream_;
    reply.ticket = next_ticket_++;
    co_return reply;
  }

  Task<overlay::FeedReply> feed(CallContext& ctx, overlay::FeedRequest req) override {
    if (stream_.stripes == 0 || req.stripe >= stream_.stripes) {
      throw overlay::NotInTree("not in this stripe", req.stripe);
    }
    FeedScript script;
    {
      std::lock_guard lock(mu_);
      script = scripts_[ctx.peer().to_string()];
      ++feeds_[ctx.peer().to_string()];
    }
    auto self = shared_from_this();
    auto channel = ctx.channel();
    std::uint32_t stripe = req.stripe;
    asio::co_spawn(
        rpc_.executor(),
        [self, stripe, channel, script]() -> Task<void> {
          auto op = self->serve_feed(stripe, channel, script);
          co_await std::move(op);
        },
        asio::detached);
    overlay::FeedReply reply;
    reply.stripe = stripe;
    reply.first_seq = stripe;
    co_return reply;
  }

  Task<Answer<overlay::HeartbeatReply>> heartbeat(CallContext& ctx,
                                                  overlay::Heartbeat req) override {
    overlay::HeartbeatReply reply;
    reply.path = {source_info_, self_info(64, overlay::Role::kRelay)};
    co_return reply;
  }

  Task<void> redirect(CallContext& ctx, overlay::Redirect req) override { co_return; }

  Task<Answer<overlay::ChildReport>> vouch(CallContext& ctx, overlay::ChildQuery req) override {
    co_return overlay::ChildReport{};
  }
  Task<Answer<overlay::HomeMoveReply>> move_home(CallContext& ctx, overlay::HomeMove req) override {
    throw overlay::NotInTree("not the source", req.from);
  }
  Task<overlay::FillReply> fill(CallContext& ctx, overlay::FillRequest req) override {
    throw overlay::NotInTree("a fake relay keeps no history", req.stripe);
  }

 private:
  struct StripeChunks {
    std::vector<SharedBytes> chunks;  // chunk n has seq stripe + n * K
  };

  overlay::PeerInfo self_info(std::uint32_t capacity, overlay::Role role) const {
    overlay::PeerInfo p;
    p.id = rpc_.id().to_string();
    p.addr = rpc_.listen_addr();
    p.capacity = capacity;
    p.role = role;
    return p;
  }

  Task<void> read_source(std::uint32_t stripe, std::uint32_t k,
                         std::shared_ptr<peers::rpc::DataChannel> channel) {
    try {
      for (;;) {
        auto op = channel->read();
        std::optional<std::string> data = co_await std::move(op);
        if (!data) co_return;
        auto chunk = vt::verify_chunk(*data, stream_key_);
        auto& held = stripes_[stripe].chunks;
        if (!chunk || chunk->seq != stripe + held.size() * k) {
          ++source_errors_;
          co_return;
        }
        held.push_back(std::make_shared<const std::string>(std::move(*data)));
        if (chunk->end_of_stream) end_seq_ = chunk->seq;
      }
    } catch (const std::exception&) {
      // The source went away: nothing more comes.
    }
  }

  Task<void> heartbeat_source(std::uint32_t stripe) {
    while (!stopping_) {
      auto sl = sleep_for(250ms);
      co_await std::move(sl);
      overlay::Heartbeat hb;
      hb.stripe = stripe;
      const auto& held = stripes_[stripe].chunks;
      hb.received_seq = held.empty() ? 0 : stripe + (held.size() - 1) * stream_.stripes;
      try {
        overlay::OverlayClient client(source_conn_);
        auto op = client.heartbeat(hb, CallOptions{1s});
        co_await std::move(op);
      } catch (const std::exception&) {
        co_return;
      }
    }
  }

  // True once the stripe holds `n` chunks; false when it never will (the
  // stream ended before, or the fake stops).
  Task<bool> wait_chunks(std::uint32_t stripe, std::size_t n) {
    for (;;) {
      const auto& held = stripes_[stripe].chunks;
      if (held.size() >= n) co_return true;
      // The stream's only end-of-stream chunk is the last seq of all: a
      // stripe is complete once its next seq would come after it.
      if (end_seq_ && stripe + held.size() * stream_.stripes > *end_seq_) co_return false;
      if (stopping_) co_return false;
      auto sl = sleep_for(5ms);
      co_await std::move(sl);
    }
  }

  std::string doctor(const std::string& real, Tamper how) {
    auto h = vt::parse_chunk_header(real).value();
    vt::Chunk forged;
    forged.seq = h.seq;
    forged.stripe = h.stripe;
    forged.random_access = h.random_access;
    forged.timestamp = h.timestamp;
    // TS-looking filler: if it were played, the output would differ.
    forged.payload.assign(h.payload_size, '\x47');
    switch (how) {
      case Tamper::kFlippedSignature: {
        std::string bytes = real;
        bytes.back() = static_cast<char>(bytes.back() ^ 0x01);
        return bytes;
      }
      case Tamper::kOtherStream:
        return vt::sign_chunk(impostor_, forged);
      case Tamper::kForeignSigner: {
        std::string bytes = vt::sign_chunk(impostor_, forged);
        vt::StreamTag tag = vt::stream_tag(stream_key_);
        std::memcpy(bytes.data() + kStreamTagOffset, tag.data(), tag.size());
        return bytes;
      }
      case Tamper::kNone:
        break;
    }
    return real;
  }

  Task<void> serve_feed(std::uint32_t stripe, std::shared_ptr<peers::rpc::DataChannel> channel,
                        FeedScript script) {
    try {
      if (script.silent) {
        // Holds the feed open and sends nothing until it stops.
        while (!stopping_) {
          auto sl = sleep_for(50ms);
          co_await std::move(sl);
        }
      } else if (script.shuffle) {
        auto op = serve_shuffled(stripe, channel);
        co_await std::move(op);
      } else {
        for (std::size_t n = 0;; ++n) {
          auto w = wait_chunks(stripe, n + 1);
          if (!co_await std::move(w)) break;
          std::string bytes = *stripes_[stripe].chunks[n];
          if (script.tamper != Tamper::kNone && stripe == script.stripe && n == script.at) {
            bytes = doctor(bytes, script.tamper);
            ++tampered_sent_;
          }
          auto op = channel->write(std::move(bytes));
          co_await std::move(op);
        }
      }
    } catch (const std::exception&) {
      // The child went away (it may have hung up on us on purpose).
      co_return;
    }
    // Like a real relay, it keeps the feed open after the end: a child that
    // has not seen the end-of-stream chunk yet (it is on another stripe)
    // must not take a closed feed for a lost parent.
    while (!stopping_) {
      auto sl = sleep_for(50ms);
      co_await std::move(sl);
    }
    channel->close();
  }

  // Chunks n+1, n, n+1, n, then the stripe's first chunk and the one four
  // back again: every chunk arrives at least twice, half of them before
  // their predecessor.
  Task<void> serve_shuffled(std::uint32_t stripe,
                            std::shared_ptr<peers::rpc::DataChannel> channel) {
    for (std::size_t n = 0;; n += 2) {
      auto w = wait_chunks(stripe, n + 2);
      bool pair = co_await std::move(w);
      const auto& held = stripes_[stripe].chunks;
      if (held.size() <= n) co_return;
      std::vector<SharedBytes> batch;
      if (pair) {
        batch = {held[n + 1], held[n], held[n + 1], held[n]};
      } else {
        batch = {held[n], held[n]};
      }
      batch.push_back(held[0]);
      if (n >= 4) batch.push_back(held[n - 4]);
      originals_sent_ += pair ? 2 : 1;
      duplicates_sent_ += static_cast<int>(batch.size()) - (pair ? 2 : 1);
      for (const auto& bytes : batch) {
        auto op = channel->write(*bytes);
        co_await std::move(op);
      }
      if (!pair) co_return;
    }
  }

  peers::rpc::Node& rpc_;
  peers::Identity impostor_ = peers::Identity::generate();
  overlay::StreamInfo stream_;
  peers::PublicKey stream_key_{};
  overlay::PeerInfo source_info_;
  std::shared_ptr<peers::rpc::Connection> source_conn_;
  std::vector<StripeChunks> stripes_;
  std::optional<vt::ChunkSeq> end_seq_;
  std::uint64_t next_ticket_ = 1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> tampered_sent_{0};
  std::atomic<int> originals_sent_{0};
  std::atomic<int> duplicates_sent_{0};
  std::atomic<int> source_errors_{0};

  std::mutex mu_;
  std::map<std::string, FeedScript> scripts_;
  std::map<std::string, int> feeds_;
  std::set<std::string> disconnected_;
};

// A FakeRelay with its rpc::Node, listening on loopback, on its own thread.
class FakeRelayHost {
 public:
  FakeRelayHost()
      : guard_(io_.get_executor()),
        rpc_(io_.get_executor(), peers::Identity::generate(), node_options()) {
    relay_ = std::make_shared<FakeRelay>(rpc_);
    rpc_.add_service(relay_);
    std::weak_ptr<FakeRelay> weak = relay_;
    rpc_.on_disconnect([weak](const std::shared_ptr<peers::rpc::Connection>& conn, const Error&) {
      if (auto r = weak.lock()) r->note_disconnect(conn->peer().to_string());
    });
    port_ = rpc_.listen("127.0.0.1:0").value();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~FakeRelayHost() {
    asio::post(io_, [this] {
      relay_->stop();
      rpc_.close();
    });
    // Let the loops see the stop and the connections close, then end.
    guard_.reset();
    auto until = Clock::now() + 3s;
    while (!io_.stopped() && Clock::now() < until) std::this_thread::sleep_for(10ms);
    io_.stop();
    thread_.join();
  }

  std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string id() const { return rpc_.id().to_string(); }
  std::string short_id() const { return rpc_.id().short_id(); }
  FakeRelay& relay() { return *relay_; }

  // Joins the source's stream; throws on failure.
  void join_source(const std::string& addr) {
    asio::co_spawn(io_, relay_->join_source(addr), asio::use_future).get();
  }

 private:
  static peers::rpc::NodeOptions node_options() {
    peers::rpc::NodeOptions o;
    o.keepalive_interval = 1s;
    return o;
  }

  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  peers::rpc::Node rpc_;
  std::shared_ptr<FakeRelay> relay_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace fake_detail

using fake_detail::FakeRelay;
using fake_detail::FakeRelayHost;
using fake_detail::FeedScript;
using fake_detail::Tamper;

}  // namespace vt::test
