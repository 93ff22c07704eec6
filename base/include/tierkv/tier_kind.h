// The tiers a block can live on, fastest first. Part of the public API (lookup
// and acquire report a location per block) and of the wire protocol, where
// each value travels as one byte: the numbers never change.
#pragma once

#include <cstdint>
#include <string_view>

namespace tierkv {

// kRemote has no producer yet: it is the wire value of the shared remote tier
// below NVMe (issue 12), kept so that value 4 means the same to every client.
enum class TierKind : uint8_t { kNone = 0, kGpu = 1, kHost = 2, kNvme = 3, kRemote = 4 };

// "none", "gpu", "host", "nvme", "remote"; "unknown" for a value off the list.
std::string_view TierName(TierKind tier);

}  // namespace tierkv
