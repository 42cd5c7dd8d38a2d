// Join links: one line that tells a viewer where a stream is and whose it is.
//
//   vt://HOST:PORT[,HOST:PORT...]/<source peer id>
//
// vt-source prints one when it starts; vt-sink and vt-relay take it as
// their argument (or as --join), which joins through the listed nodes and
// pins the stream to that source (chunks signed by anyone else are refused).
//
//   auto link = vt::parse_join_link("vt://203.0.113.5:7000/vt1...");
//   link->addrs;   // {"203.0.113.5:7000"}
//   link->source;  // the PeerId
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/crypto/peer_id.h"
#include "lib/kernel/error.h"

namespace vt {

inline constexpr std::string_view kJoinLinkScheme = "vt://";

struct JoinLink {
  std::vector<std::string> addrs;  // "host:port", in the order listed
  peers::PeerId source;
};

// Whether `text` is meant as a link (starts with vt://), good or bad.
bool is_join_link(std::string_view text);

// A link, or kInvalidArgument saying what is wrong with it: no vt:// scheme,
// no address, an address that is not HOST:PORT (port 1..65535), a bad or
// missing source id, more than 16 addresses.
peers::Result<JoinLink> parse_join_link(std::string_view text);

// The link for these addresses (at least one) and this source.
std::string format_join_link(const std::vector<std::string>& addrs, const peers::PeerId& source);

}  // namespace vt
