#include "host_tier.h"

#include <algorithm>
#include <cstring>

namespace tierkv {

Result<std::unique_ptr<HostTier>> HostTier::Create(uint64_t pool_bytes, uint64_t slab_bytes) {
  slab_bytes = std::min(slab_bytes, pool_bytes);
  slab_bytes -= slab_bytes % SlabAllocator::kSlotAlignment;
  if (slab_bytes == 0) {
    return Status::InvalidArgument("host pool of " + std::to_string(pool_bytes) +
                                   " bytes is smaller than one 4 KiB slot");
  }
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
  const uint64_t slot_bytes = slabs_.SlotBytesFor(block_bytes);
  if (slot_bytes == 0) {
    return Status::InvalidArgument("block of " + std::to_string(block_bytes) +
                                   " bytes does not fit the host tier's " +
                                   std::to_string(slabs_.slab_bytes()) + "-byte slabs");
  }
  const uint32_t cls = slabs_.ClassFor(slot_bytes);
  auto offset = slabs_.Allocate(cls);
  if (!offset) return Status::ResourceExhausted("host tier is full");
  return TierSlot{cls, *offset};
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
