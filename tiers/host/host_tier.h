// The CPU tier: one shared-memory pool in fixed-size slots, which local
// clients map so that payload bytes never cross the socket.
#pragma once

#include <memory>

#include "base/shared_memory.h"
#include "tiers/host/slab_allocator.h"
#include "tiers/tier_slot.h"

namespace tierkv {

class HostTier {
 public:
  // Slabs are this large unless the pool is smaller; a block must fit one slab.
  static constexpr uint64_t kDefaultSlabBytes = 64ull << 20;

  // Faults the whole pool in now, reporting how far it got through `progress`.
  static Result<std::unique_ptr<HostTier>> Create(uint64_t pool_bytes,
                                                  uint64_t slab_bytes = kDefaultSlabBytes,
                                                  const PopulateProgress& progress = {});

  // A slot for a block of `block_bytes`; ResourceExhausted when none is free.
  Result<TierSlot> Allocate(uint64_t block_bytes);
  // Returns a slot from Allocate. The slot's bytes may be reused at once.
  void Free(const TierSlot& slot);
  uint64_t capacity_bytes() const { return slabs_.capacity_bytes(); }
  uint64_t used_bytes() const { return slabs_.used_bytes(); }

  // The largest block this tier can hold (one slab).
  uint64_t max_block_bytes() const { return slabs_.slab_bytes(); }
  // The class a block size maps to (each class has its own LRU in the daemon).
  uint32_t SizeClassFor(uint64_t block_bytes);
  bool HasFreeSlab() const { return slabs_.HasFreeSlab(); }

  // The pool's bytes at `offset` (a slot's offset), as mapped in the daemon.
  std::byte* At(uint64_t offset) const { return memory_.data() + offset; }
  int fd() const { return memory_.fd(); }
  uint64_t pool_bytes() const { return memory_.size(); }
  bool huge_pages() const { return memory_.huge_pages(); }

 private:
  HostTier(SharedMemory memory, uint64_t slab_bytes);
  SharedMemory memory_;
  SlabAllocator slabs_;
};

}  // namespace tierkv
