#include "gpu_tier.h"

#include <algorithm>

namespace tierkv {

Result<std::unique_ptr<GpuTier>> GpuTier::Create(std::unique_ptr<DeviceMemory> memory,
                                                 uint64_t slab_bytes) {
  slab_bytes = std::min(slab_bytes, memory->size());
  slab_bytes -= slab_bytes % SlabAllocator::kSlotAlignment;
  if (slab_bytes == 0) {
    return Status::InvalidArgument("GPU pool of " + std::to_string(memory->size()) +
                                   " bytes is smaller than one 4 KiB slot");
  }
  return std::unique_ptr<GpuTier>(new GpuTier(std::move(memory), slab_bytes));
}

GpuTier::GpuTier(std::unique_ptr<DeviceMemory> memory, uint64_t slab_bytes)
    : memory_(std::move(memory)),
      slabs_(memory_->size() / slab_bytes * slab_bytes, slab_bytes) {}

uint32_t GpuTier::SizeClassFor(uint64_t block_bytes) {
  return slabs_.ClassFor(slabs_.SlotBytesFor(block_bytes));
}

Result<TierSlot> GpuTier::Allocate(uint64_t block_bytes) {
  const uint64_t slot_bytes = slabs_.SlotBytesFor(block_bytes);
  if (slot_bytes == 0) {
    return Status::InvalidArgument("block of " + std::to_string(block_bytes) +
                                   " bytes does not fit the GPU tier's " +
                                   std::to_string(slabs_.slab_bytes()) + "-byte slabs");
  }
  const uint32_t cls = slabs_.ClassFor(slot_bytes);
  auto offset = slabs_.Allocate(cls);
  if (!offset) return Status::ResourceExhausted("GPU tier is full");
  return TierSlot{cls, *offset};
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
