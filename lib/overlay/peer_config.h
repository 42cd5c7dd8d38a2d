// PeerConfig: the command line of vt-source, vt-relay and vt-sink, checked
// and turned into values (durations, peer ids, the budget of children)
// before anything starts, so a user's mistake fails at once with a message
// that names the flag (peers::Error kInvalidArgument: the tool exits 2).
//
//   vt::PeerAppOptions options;              // filled by add_peer_flags()
//   options.role = vt::overlay::Role::kRelay;
//   options.upload = "20M";
//   vt::PeerConfig config = vt::make_peer_config(options);
//   config.capacity;  // 20M upload / (4M stream / 4 stripes) = 20 children
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/crypto/peer_id.h"
#include "proto/overlay.pidl.h"

namespace vt {

// The ranges of the source's flags. The chunker takes K up to kMaxStripes
// and chunks up to 1 MiB; the tools take less: a feed's send window holds
// two whole chunks and at most 256 KiB, and every node keeps per-stripe
// state that more than 64 stripes would spread thin.
inline constexpr std::uint32_t kMaxFlagStripes = 64;
inline constexpr std::uint32_t kMinFlagChunkBytes = 1024;
inline constexpr std::uint32_t kMaxFlagChunkBytes = 512 * 1024;

// What is wrong with a peer address given on the command line ("" when
// nothing): HOST:PORT ([v6]:PORT), a port from 1 (dialing: --join,
// vt-inspect's targets) or 0 (listening) to 65535.
//   address_problem("127.0.0.1", true) ==
//       "bad address '127.0.0.1' (want HOST:PORT, IPv6 as [::1]:PORT)"
std::string address_problem(const std::string& text, bool dialing);

// The flags as typed (add_peer_flags() in peer_app.h registers them).
struct PeerAppOptions {
  overlay::Role role = overlay::Role::kRelay;
  std::string listen;              // host:port; "" = default for the role
  std::vector<std::string> join;   // relays, sinks: HOST:PORT or a join link (vt://...)
  std::string link;                // relays, sinks: the positional join link
  std::string announce;            // --announce HOST:PORT: advertised instead of what is seen
  std::string key;                 // key file; "" = fresh identity (not for the source)
  std::string input = "-";         // source
  bool realtime = false;           // source: pace MPEG-TS by its PCR
  std::string output = "-";        // sink
  std::uint32_t stripes = 4;       // source
  std::string upload;              // rate, e.g. "20M"; "" = unlimited
  int max_children = -1;           // overrides --upload
  std::string stream_rate = "4M";  // assumed stream rate, to turn --upload into children
  std::string buffer = "2s";       // sink playout buffer
  std::string source_key;          // sink/relay: pin the stream
  std::string join_timeout = "10s";
  std::string repair_timeout = "60s";  // relays, sinks: keep repairing this long
  std::string start = "live";          // relays, sinks: "live" or "oldest"
  std::string stats_interval;          // "" = no stats
  std::string stats_file;              // JSON stats: "" = none, "-" = stdout
  bool json = false;
  std::string linger = "2s";  // after end of stream, keep serving repairs this long
  std::uint32_t chunk_bytes = 16 * 1024;
  std::vector<std::string> inspect_allow;  // peer ids allowed to inspect; empty = anyone
  // Strangers' cost (docs/security.md): accepted connections in all, in the
  // handshake, and from one IP address (loopback exempt).
  std::uint32_t max_connections = 1024;
  std::uint32_t max_handshakes = 64;
  std::uint32_t max_per_address = 32;
};

// The flags that need checking, as values.
struct PeerConfig {
  overlay::Role role = overlay::Role::kRelay;
  bool is_source = false;
  bool is_sink = false;
  std::chrono::microseconds join_timeout{0};
  std::chrono::microseconds linger{0};
  std::chrono::microseconds buffer{0};  // the sink's playout buffer
  std::optional<std::chrono::microseconds> stats_every;
  std::vector<peers::PeerId> inspect_allow;
  std::optional<peers::PeerId> source_key;  // the pinned stream (--source-key or a join link)
  // Where to join: --join addresses and the addresses of join links.
  std::vector<std::string> join;
  // Children: the source counts them per stripe, everyone else in total.
  // The most the node may take: its measured uplink decides how many it does.
  std::uint32_t capacity = 0;
  // capacity came from --upload at the assumed --stream-rate (not from
  // --max-children): the node figures it again at the measured rate.
  bool capacity_from_upload = false;
  std::chrono::microseconds repair_timeout{0};
  std::optional<double> upload_bps;  // --upload: the ceiling of the uplink estimate
  double stream_bps = 4e6;           // --stream-rate: assumed until measured
  bool start_oldest = false;         // --start oldest
};

// Checks options in the order of the flags' importance and throws
// peers::Error(kInvalidArgument) for the first that is wrong
// ("--linger: invalid duration '2x': ...", "--source-key: ..."). A
// relay or sink needs somewhere to join (a link or --join); a link pins the
// source, and a link whose source differs from --source-key (or another
// link's) is an error.
PeerConfig make_peer_config(const PeerAppOptions& options);

}  // namespace vt
