#include "lib/overlay/inspect_service.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "lib/kernel/log.h"
#include "lib/kernel/timer.h"
#include "lib/kernel/version.h"

namespace vt {

namespace asio = boost::asio;
using peers::rpc::Answer;
using peers::rpc::CallContext;
using peers::rpc::Task;
using std::chrono::steady_clock;

namespace {

inspect::Neighbor neighbor_of(const overlay::PeerInfo& info, std::uint32_t rtt_us) {
  inspect::Neighbor n;
  n.id = info.id;
  n.addr = info.addr;
  if (rtt_us > 0) n.rtt_us = rtt_us;
  n.role = info.role;
  n.capacity = info.capacity;
  return n;
}

}  // namespace

InspectService::InspectService(peers::rpc::Node& rpc, std::shared_ptr<OverlayNode> node,
                               InspectOptions options)
    : rpc_(rpc),
      node_(std::move(node)),
      options_(std::move(options)),
      started_(peers::Clock::now()) {
  auto st = node_->stats();
  last_ = previous_ = Sample{started_, st.bytes_in, st.bytes_out};
}

InspectService::~InspectService() = default;

void InspectService::start() {
  std::weak_ptr<InspectService> weak = weak_from_this();
  auto before = std::move(node_->on_event);
  node_->on_event = [weak, before](const std::string& kind,
                                   const std::map<std::string, std::string>& fields) {
    if (before) before(kind, fields);
    if (auto self = weak.lock()) self->record(kind, fields);
  };
  asio::co_spawn(
      rpc_.executor(),
      [weak]() -> Task<void> {
        std::chrono::milliseconds period;
        {
          auto self = weak.lock();
          if (!self) co_return;
          period = self->options_.rate_period;
        }
        peers::Timer timer(co_await asio::this_coro::executor);
        for (;;) {
          timer.expires_after(period);
          auto wait = timer.async_wait(asio::use_awaitable);
          co_await std::move(wait);
          auto self = weak.lock();
          if (!self) co_return;
          auto st = self->node_->stats();
          self->previous_ = self->last_;
          self->last_ = Sample{peers::Clock::now(), st.bytes_in, st.bytes_out};
        }
      },
      asio::detached);
}

void InspectService::record(const std::string& kind,
                            const std::map<std::string, std::string>& fields) {
  inspect::Event e;
  e.seq = next_seq_++;
  e.time = peers::wall_seconds();
  e.kind = kind;
  e.fields = fields;
  if (auto it = e.fields.find("stripe"); it != e.fields.end()) {
    std::uint32_t stripe = 0;
    const auto& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), stripe);
    if (ec == std::errc() && end == text.data() + text.size()) {
      e.stripe = stripe;
      e.fields.erase(it);
    }
  }
  std::string encoded = e.encode();
  ring_.push_back(std::move(e));
  while (ring_.size() > options_.max_events) ring_.pop_front();
  auto followers = followers_;
  for (auto& f : followers) {
    f->queue.push_back(encoded);
    if (f->queue.size() > options_.max_follower_queue) {
      drop_follower(f, "event follower too slow");
    } else if (!f->writing) {
      start_writer(f);
    }
  }
}

void InspectService::check_allowed(const CallContext& ctx) const {
  if (options_.allow.empty()) return;
  if (std::find(options_.allow.begin(), options_.allow.end(), ctx.peer()) != options_.allow.end()) {
    return;
  }
  throw inspect::Denied("this node answers inspection only from the peers of its --inspect-allow");
}

inspect::NodeStatus InspectService::status_now() const {
  const auto& cfg = node_->config();
  auto st = node_->stats();
  inspect::NodeStatus s;
  s.id = rpc_.id().to_string();
  s.role = cfg.role;
  s.addr = rpc_.advertised_addr();
  s.stream_id = node_->stream().source_id;
  s.stripe_count = node_->stripes();
  s.uptime_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(peers::Clock::now() - started_)
          .count());
  s.version = peers::kVersion;
  s.tool = options_.tool;
  double secs = std::chrono::duration<double>(last_.at - previous_.at).count();
  if (secs > 0) {
    s.rate_in_bps = static_cast<double>(last_.bytes_in - previous_.bytes_in) * 8 / secs;
    s.rate_out_bps = static_cast<double>(last_.bytes_out - previous_.bytes_out) * 8 / secs;
  }
  s.history_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg.history.max_age).count());
  s.gaps = playout_gaps ? playout_gaps() : 0;
  s.rejected = st.rejected;
  s.capacity = cfg.capacity;
  s.chunks_in = st.chunks_in;
  s.chunks_out = st.chunks_out;
  s.duplicates = st.duplicates;
  if (st.rtt_ms >= 0) s.rtt_ms = st.rtt_ms;
  if (auto behind = node_->receive_behind_live()) {
    s.behind_live_ms = static_cast<std::uint64_t>(behind->count() / 1000);
  }
  s.uplink_bps = st.uplink_bps;
  s.measured_capacity = st.capacity;
  s.queue_ms = st.queue_delay_ms;
  for (const auto& ss : node_->stripe_status()) {
    inspect::StripeStatus out;
    out.stripe = ss.stripe;
    out.interior = ss.interior;
    if (ss.parent_info) out.parent = neighbor_of(ss.parent_info->info, ss.parent_info->rtt_us);
    for (const auto& c : ss.child_list) out.children.push_back(neighbor_of(c.info, c.rtt_us));
    std::sort(out.children.begin(), out.children.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    out.last_seq = ss.last_seq;
    out.repairs = ss.repairs;
    out.gaps = ss.holes;
    for (const auto& p : ss.path) out.path.push_back(neighbor_of(p, 0));
    out.repairing = ss.repairing;
    out.history_chunks = static_cast<std::uint32_t>(ss.history_chunks);
    s.stripes.push_back(std::move(out));
  }
  return s;
}

inspect::EventList InspectService::events_since(std::uint64_t since) const {
  inspect::EventList list;
  list.last_seq = next_seq_ - 1;
  std::uint64_t oldest = ring_.empty() ? next_seq_ : ring_.front().seq;
  if (since + 1 < oldest) list.missed = oldest - since - 1;
  for (const auto& e : ring_) {
    if (e.seq > since) list.events.push_back(e);
  }
  return list;
}

Task<Answer<inspect::NodeStatus>> InspectService::status(CallContext& ctx) {
  check_allowed(ctx);
  co_return status_now();
}

Task<Answer<inspect::EventList>> InspectService::events(CallContext& ctx,
                                                        inspect::EventsRequest request) {
  check_allowed(ctx);
  co_return events_since(request.since);
}

Task<inspect::EventList> InspectService::follow(CallContext& ctx, inspect::EventsRequest request) {
  check_allowed(ctx);
  auto f = std::make_shared<Follower>();
  f->channel = ctx.channel();
  followers_.push_back(f);
  peers::log_debug("event follower", {{"peer", ctx.peer().short_id()}});
  co_return events_since(request.since);
}

Task<Answer<inspect::ServiceList>> InspectService::services(CallContext& ctx) {
  check_allowed(ctx);
  inspect::ServiceList list;
  list.interfaces = {std::string(node_->name()), std::string(name())};
  std::sort(list.interfaces.begin(), list.interfaces.end());
  co_return list;
}

void InspectService::start_writer(std::shared_ptr<Follower> follower) {
  if (follower->writing) return;
  follower->writing = true;
  auto self = shared_from_this();
  asio::co_spawn(
      rpc_.executor(),
      [self, follower]() -> Task<void> {
        try {
          while (!follower->queue.empty()) {
            std::string next = std::move(follower->queue.front());
            follower->queue.pop_front();
            auto op = follower->channel->write(std::move(next));
            co_await std::move(op);
          }
          follower->writing = false;
        } catch (const std::exception& e) {
          follower->writing = false;
          self->drop_follower(follower, e.what());
        }
      },
      asio::detached);
}

void InspectService::drop_follower(const std::shared_ptr<Follower>& follower,
                                   const std::string& why) {
  auto it = std::find(followers_.begin(), followers_.end(), follower);
  if (it == followers_.end()) return;
  followers_.erase(it);
  follower->queue.clear();
  follower->channel->fail(peers::Error(peers::Errc::kOverloaded, why));
  peers::log_debug("event follower dropped", {{"why", why}});
}

}  // namespace vt
