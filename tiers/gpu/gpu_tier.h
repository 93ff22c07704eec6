// The GPU tier: a daemon-owned device memory pool in fixed-size slots
// (SlabAllocator, as the host tier), exported to engine processes on the same
// GPU through CUDA IPC, with copies from the host tier on a stream of its own.
//
// The daemon keeps it inclusive: a block with a GPU copy always keeps its host
// copy too (daemon/block_store.h), so leaving this tier never needs a copy back.
#pragma once

#include <memory>
#include <span>

#include "tiers/gpu/device_memory.h"
#include "tiers/host/slab_allocator.h"
#include "tiers/tier_slot.h"

namespace tierkv {

class GpuTier {
 public:
  static constexpr uint64_t kDefaultSlabBytes = 64ull << 20;

  // InvalidArgument when the pool cannot hold one 4 KiB slot.
  static Result<std::unique_ptr<GpuTier>> Create(std::unique_ptr<DeviceMemory> memory,
                                                 uint64_t slab_bytes = kDefaultSlabBytes);

  // A slot for a block of `block_bytes`; ResourceExhausted when none is free.
  Result<TierSlot> Allocate(uint64_t block_bytes);
  // Returns a slot from Allocate. The slot's bytes may be reused at once.
  void Free(const TierSlot& slot);
  // Synchronous, bounds-checked copies of a slot's first bytes out of / into
  // device memory: how tests and tools see what the pool holds. The daemon
  // copies up with WriteAsync.
  Status Read(const TierSlot& slot, std::span<std::byte> out);
  Status Write(const TierSlot& slot, std::span<const std::byte> in);
  uint64_t capacity_bytes() const { return slabs_.capacity_bytes(); }
  uint64_t used_bytes() const { return slabs_.used_bytes(); }

  // Starts copying `in` (host memory that stays put until `done`) into the slot.
  Status WriteAsync(const TierSlot& slot, std::span<const std::byte> in,
                    DeviceMemory::Callback done);

  uint64_t max_block_bytes() const { return slabs_.slab_bytes(); }
  uint32_t SizeClassFor(uint64_t block_bytes);
  bool HasFreeSlab() const { return slabs_.HasFreeSlab(); }
  DeviceMemory& memory() { return *memory_; }
  const DeviceMemory& memory() const { return *memory_; }

 private:
  GpuTier(std::unique_ptr<DeviceMemory> memory, uint64_t slab_bytes);
  Status CheckFits(const TierSlot& slot, size_t bytes) const;

  std::unique_ptr<DeviceMemory> memory_;
  SlabAllocator slabs_;
};

}  // namespace tierkv
