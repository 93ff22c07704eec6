#include "tiers/host/host_tier.h"

#include <algorithm>
#include <cstring>

namespace tierkv {

Result<std::unique_ptr<HostTier>> HostTier::Create(uint64_t pool_bytes, uint64_t slab_bytes) {
  TIERKV_ASSIGN_OR_RETURN(slab_bytes, SlabBytesForPool(pool_bytes, slab_bytes, "host"));
  const uint64_t usable = pool_bytes / slab_bytes * slab_bytes;
  TIERKV_ASSIGN_OR_RETURN(SharedMemory memory, SharedMemory::Create(usable, "tierkv-host-pool"));
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

Status HostTier::Read(const TierSlot& slot, std::span<std::byte> out) {
  if (out.size() > slabs_.class_slot_bytes(slot.size_class)) {
    return Status::InvalidArgument("read larger than the slot");
  }
  std::memcpy(out.data(), At(slot.offset), out.size());
  return Status::Ok();
}

Status HostTier::Write(const TierSlot& slot, std::span<const std::byte> in) {
  if (in.size() > slabs_.class_slot_bytes(slot.size_class)) {
    return Status::InvalidArgument("write larger than the slot");
  }
  std::memcpy(At(slot.offset), in.data(), in.size());
  return Status::Ok();
}

}  // namespace tierkv
