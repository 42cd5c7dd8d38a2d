#include "lib/overlay/peer_config.h"

#include <algorithm>

#include "lib/kernel/cli.h"
#include "lib/kernel/units.h"
#include "lib/overlay/join_link.h"
#include "lib/rpc/address.h"
#include "lib/stream/chunk.h"

namespace vt {

using namespace std::chrono_literals;

std::string address_problem(const std::string& text, bool dialing) {
  auto hp = peers::rpc::parse_host_port(text);
  if (!hp) return hp.error().message();
  if (dialing && hp->port == 0) {
    return "bad address '" + text + "' (port 0 only listens; give the node's port)";
  }
  return "";
}

PeerConfig make_peer_config(const PeerAppOptions& o) {
  PeerConfig c;
  c.role = o.role;
  c.is_source = o.role == overlay::Role::kSource;
  c.is_sink = o.role == overlay::Role::kSink;
  c.join_timeout = peers::duration_flag("--join-timeout", o.join_timeout);
  c.repair_timeout = peers::duration_flag("--repair-timeout", o.repair_timeout);
  if (o.start != "live" && o.start != "oldest") {
    throw peers::usage_error("--start: expected live or oldest, got '" + o.start + "'");
  }
  c.start_oldest = o.start == "oldest";
  c.linger = peers::duration_flag("--linger", o.linger);
  c.buffer = peers::duration_flag("--buffer", o.buffer);
  if (!o.stats_interval.empty()) {
    c.stats_every = peers::duration_flag("--stats-interval", o.stats_interval, 1ms);
  } else if (!o.stats_file.empty()) {
    c.stats_every = std::chrono::seconds(1);
  }
  if (o.stats_file == "-" && c.is_sink && o.output == "-") {
    throw peers::usage_error(
        "--stats-file -: stdout carries the stream; give --output FILE or a stats file");
  }
  for (const auto& text : o.inspect_allow) {
    auto id = peers::PeerId::parse(text);
    if (!id) throw peers::usage_error("--inspect-allow: " + id.error().message());
    c.inspect_allow.push_back(*id);
  }
  if (!o.source_key.empty()) {
    auto id = peers::PeerId::parse(o.source_key);
    if (!id) throw peers::usage_error("--source-key: " + id.error().message());
    c.source_key = *id;
  }
  std::vector<std::string> targets = o.join;
  if (!o.link.empty()) targets.insert(targets.begin(), o.link);
  for (const auto& text : targets) {
    if (!is_join_link(text)) {
      auto hp = peers::rpc::parse_host_port(text);
      if (!hp) throw peers::usage_error("--join: " + hp.error().message());
      c.join.push_back(text);
      continue;
    }
    auto link = parse_join_link(text);
    if (!link) throw peers::usage_error(link.error().message());
    if (c.source_key && !(*c.source_key == link->source)) {
      throw peers::usage_error("join link '" + text + "' is for source " +
                               link->source.to_string() + ", not " + c.source_key->to_string());
    }
    c.source_key = link->source;
    c.join.insert(c.join.end(), link->addrs.begin(), link->addrs.end());
  }
  if (!c.is_source && c.join.empty()) {
    throw peers::usage_error("nowhere to join: give a join link (vt://HOST:PORT/vt1...) or --join");
  }
  if (!o.announce.empty()) {
    auto hp = peers::rpc::parse_host_port(o.announce);
    if (!hp) throw peers::usage_error("--announce: " + hp.error().message());
    if (hp->port == 0) throw peers::usage_error("--announce: port 0 cannot be dialed");
    auto scope = peers::rpc::address_scope(hp->host);
    if (scope == peers::rpc::AddressScope::kUnspecified) {
      throw peers::usage_error("--announce: '" + o.announce + "' is not an address to dial");
    }
  }
  // Children: the source counts them per stripe, everyone else in total
  // (a child in one stripe costs stream/K of upload). Defaults assume an
  // upload of about twice the stream rate for relays, once for sinks.
  c.capacity = c.is_source ? 4 : c.is_sink ? 4 : 8;
  c.stream_bps = static_cast<double>(peers::rate_flag("--stream-rate", o.stream_rate));
  if (!o.upload.empty()) {
    c.upload_bps = static_cast<double>(peers::rate_flag("--upload", o.upload));
  }
  if (o.max_children >= 0) {
    c.capacity = static_cast<std::uint32_t>(o.max_children);
  } else if (!o.upload.empty()) {
    std::uint64_t upload = peers::rate_flag("--upload", o.upload);
    std::uint64_t stream = peers::rate_flag("--stream-rate", o.stream_rate);
    std::uint32_t k = c.is_source ? o.stripes : kDefaultStripes;
    // A child in one stripe costs stream/K of upload.
    c.capacity = stream == 0 ? 0 : static_cast<std::uint32_t>(upload * k / stream);
    if (c.is_source) c.capacity = std::max<std::uint32_t>(1, c.capacity / k);
    c.capacity_from_upload = upload > 0;
  }
  return c;
}

}  // namespace vt
