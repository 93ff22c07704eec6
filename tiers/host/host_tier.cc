#include "tiers/host/host_tier.h"

#include <algorithm>

namespace tierkv {

Result<std::unique_ptr<HostTier>> HostTier::Create(uint64_t pool_bytes, uint64_t slab_bytes,
                                                   const PopulateProgress& progress) {
  TIERKV_ASSIGN_OR_RETURN(slab_bytes, SlabBytesForPool(pool_bytes, slab_bytes, "host"));
  const uint64_t usable = pool_bytes / slab_bytes * slab_bytes;
  TIERKV_ASSIGN_OR_RETURN(SharedMemory memory,
                          SharedMemory::Create(usable, "tierkv-host-pool", progress));
  return std::unique_ptr<HostTier>(new HostTier(std::move(memory), slab_bytes));
}

HostTier::HostTier(SharedMemory memory, uint64_t slab_bytes)
    : memory_(std::move(memory)), slabs_(memory_.size(), slab_bytes) {}

uint32_t HostTier::SizeClassFor(uint64_t block_bytes) {
  return slabs_.ClassFor(slabs_.SlotBytesFor(block_bytes));
}

Result<TierSlot> HostTier::Allocate(uint64_t block_bytes) {
  return AllocateSlot(slabs_, block_bytes, "host");
}

void HostTier::Free(const TierSlot& slot) { slabs_.Free(slot.size_class, slot.offset); }

}  // namespace tierkv
