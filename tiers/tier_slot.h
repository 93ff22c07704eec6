// Where one block lives inside a tier (host or GPU slots; the NVMe tier keeps
// its own slot ids). Placement, LRU order, pins and movement between tiers live
// in the daemon (daemon/block_store.h), not in the tiers.
#pragma once

#include <cstdint>

namespace tierkv {

// `size_class` is the tier's own id for the slot size; `offset` is a byte
// offset in the tier's address space.
struct TierSlot {
  uint32_t size_class = 0;
  uint64_t offset = 0;
};

}  // namespace tierkv
