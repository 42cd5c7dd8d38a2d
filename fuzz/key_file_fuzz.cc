// Fuzz target: key files (lib/crypto/key_file.h), text a user hands to every
// tool. A file that decodes encodes to a file that decodes to the same key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "lib/crypto/key_file.h"
#include "lib/crypto/peer_id.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  std::string_view text = in.rest();
  auto identity = peers::decode_key_file(text);
  // The peer-id parser alone, on each line (what --source-key takes too).
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    auto id = peers::PeerId::parse(text.substr(at, end - at));
    if (id) {
      auto back = peers::PeerId::parse(id->to_string());
      PEERS_FUZZ_CHECK(back.ok() && *back == *id, "a peer id prints and parses back");
    }
    at = end + 1;
  }
  if (!identity) {
    PEERS_FUZZ_CHECK(identity.error().code() == peers::Errc::kInvalidArgument,
                     "bad content is kInvalidArgument");
    PEERS_FUZZ_CHECK(!identity.error().message().empty(), "and says why");
    return 0;
  }
  std::string again = peers::encode_key_file(*identity);
  auto back = peers::decode_key_file(again);
  PEERS_FUZZ_CHECK(back.ok(), "an encoded key file decodes");
  PEERS_FUZZ_CHECK(back->peer_id() == identity->peer_id(), "to the same key");
  return 0;
}
