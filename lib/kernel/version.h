// The toolkit's version, printed by every tool's --version.
#pragma once

namespace peers {
inline constexpr const char kVersion[] = "0.1.0";
}  // namespace peers
