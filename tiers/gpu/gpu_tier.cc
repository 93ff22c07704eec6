#include "tiers/gpu/gpu_tier.h"

#include <algorithm>

namespace tierkv {

Result<std::unique_ptr<GpuTier>> GpuTier::Create(std::unique_ptr<DeviceMemory> memory,
                                                 uint64_t slab_bytes) {
  TIERKV_ASSIGN_OR_RETURN(slab_bytes, SlabBytesForPool(memory->size(), slab_bytes, "GPU"));
  return std::unique_ptr<GpuTier>(new GpuTier(std::move(memory), slab_bytes));
}

GpuTier::GpuTier(std::unique_ptr<DeviceMemory> memory, uint64_t slab_bytes)
    : memory_(std::move(memory)),
      slabs_(memory_->size() / slab_bytes * slab_bytes, slab_bytes) {}

uint32_t GpuTier::SizeClassFor(uint64_t block_bytes) {
  return slabs_.ClassFor(slabs_.SlotBytesFor(block_bytes));
}

Result<TierSlot> GpuTier::Allocate(uint64_t block_bytes) {
  return AllocateSlot(slabs_, block_bytes, "GPU");
}

void GpuTier::Free(const TierSlot& slot) { slabs_.Free(slot.size_class, slot.offset); }

Status GpuTier::CheckFits(const TierSlot& slot, size_t bytes) const {
  if (bytes > slabs_.class_slot_bytes(slot.size_class)) {
    return Status::InvalidArgument("copy of " + std::to_string(bytes) +
                                   " bytes is larger than the GPU slot");
  }
  return Status::Ok();
}

Status GpuTier::Read(const TierSlot& slot, std::span<std::byte> out) {
  TIERKV_RETURN_IF_ERROR(CheckFits(slot, out.size()));
  return memory_->CopyToHost(slot.offset, out.data(), out.size());
}

Status GpuTier::Write(const TierSlot& slot, std::span<const std::byte> in) {
  TIERKV_RETURN_IF_ERROR(CheckFits(slot, in.size()));
  return memory_->CopyToDevice(slot.offset, in.data(), in.size());
}

Status GpuTier::WriteAsync(const TierSlot& slot, std::span<const std::byte> in,
                           DeviceMemory::Callback done) {
  TIERKV_RETURN_IF_ERROR(CheckFits(slot, in.size()));
  return memory_->CopyToDeviceAsync(slot.offset, in.data(), in.size(), std::move(done));
}

}  // namespace tierkv
