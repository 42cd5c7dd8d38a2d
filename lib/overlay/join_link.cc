#include "lib/overlay/join_link.h"

#include "lib/rpc/address.h"

namespace vt {

namespace {

// A link is pasted by hand; a long list is a mistake, not a stream.
constexpr std::size_t kMaxLinkAddrs = 16;

peers::Error bad_link(std::string_view text, const std::string& why) {
  return peers::Error(peers::Errc::kInvalidArgument,
                      "bad join link '" + std::string(text) + "': " + why +
                          " (want vt://HOST:PORT[,HOST:PORT...]/vt1...)");
}

}  // namespace

bool is_join_link(std::string_view text) { return text.starts_with(kJoinLinkScheme); }

peers::Result<JoinLink> parse_join_link(std::string_view text) {
  if (!is_join_link(text)) return bad_link(text, "it does not start with vt://");
  std::string_view rest = text.substr(kJoinLinkScheme.size());
  auto slash = rest.rfind('/');
  if (slash == std::string_view::npos) return bad_link(text, "no source id after the addresses");
  std::string_view addrs = rest.substr(0, slash);
  std::string_view key = rest.substr(slash + 1);
  if (key.empty()) return bad_link(text, "no source id after the addresses");
  auto id = peers::PeerId::parse(key);
  if (!id) return bad_link(text, id.error().message());
  if (addrs.empty()) return bad_link(text, "no address");
  JoinLink link{{}, *id};
  while (true) {
    auto comma = addrs.find(',');
    std::string_view one = addrs.substr(0, comma);
    auto hp = peers::rpc::parse_host_port(one);
    if (!hp) return bad_link(text, hp.error().message());
    if (hp->port == 0) return bad_link(text, "port 0 in '" + std::string(one) + "'");
    link.addrs.emplace_back(one);
    if (link.addrs.size() > kMaxLinkAddrs) {
      return bad_link(text, "more than " + std::to_string(kMaxLinkAddrs) + " addresses");
    }
    if (comma == std::string_view::npos) break;
    addrs = addrs.substr(comma + 1);
  }
  return link;
}

std::string format_join_link(const std::vector<std::string>& addrs, const peers::PeerId& source) {
  std::string out(kJoinLinkScheme);
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    if (i) out += ',';
    out += addrs[i];
  }
  return out + "/" + source.to_string();
}

}  // namespace vt
