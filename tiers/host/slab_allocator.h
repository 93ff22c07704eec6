// Fixed-size slot allocation over a flat address range, by size class.
//
// The range is cut into equal slabs. A slab is handed to one size class when
// that class first needs room, cut into slots of the class's size, and handed
// back to the free slab list when its last slot is freed, so memory follows
// the workload's block sizes instead of being split up front.
//
// Invariants: a slab is free, or owned by exactly one class; a class's
// `partial` list holds exactly its slabs that have a free slot.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tierkv/status.h"
#include "tiers/tier_slot.h"

namespace tierkv {

class SlabAllocator {
 public:
  // Slots are aligned to this, so pool offsets suit O_DIRECT and DMA.
  static constexpr uint64_t kSlotAlignment = 4096;

  SlabAllocator(uint64_t total_bytes, uint64_t slab_bytes);

  uint64_t slab_bytes() const { return slab_bytes_; }
  uint64_t capacity_bytes() const { return slab_bytes_ * slabs_.size(); }
  uint64_t used_bytes() const { return used_bytes_; }
  // Slot size for a block (rounded up to the alignment), or 0 if it cannot fit a slab.
  uint64_t SlotBytesFor(uint64_t block_bytes) const;
  // The class id for slot_bytes (created on first use).
  uint32_t ClassFor(uint64_t slot_bytes);
  uint64_t class_slot_bytes(uint32_t size_class) const { return classes_[size_class].slot_bytes; }

  // Offset of a free slot of the class, or nullopt when no slot or slab is free.
  std::optional<uint64_t> Allocate(uint32_t size_class);
  void Free(uint32_t size_class, uint64_t offset);
  // True when some slab is unowned (a class without free slots can still grow).
  bool HasFreeSlab() const { return !free_slabs_.empty(); }

 private:
  struct Slab {
    int32_t owner = -1;  // class id, -1 when free
    uint32_t live = 0;
    bool in_partial = false;
    std::vector<uint32_t> free_slots;  // slot indexes within the slab
  };
  struct SizeClass {
    uint64_t slot_bytes = 0;
    uint32_t slots_per_slab = 0;
    std::vector<uint32_t> partial;  // slabs with a free slot
  };

  void RemoveFromPartial(SizeClass& cls, uint32_t slab_index);

  uint64_t slab_bytes_;
  uint64_t used_bytes_ = 0;
  std::vector<Slab> slabs_;
  std::vector<uint32_t> free_slabs_;
  std::vector<SizeClass> classes_;
};

// What the tiers built on slabs (host, GPU) share. `tier` names the tier in
// error messages.
//
// The slab size for a pool: slab_bytes, at most the pool, rounded down to the
// slot alignment; InvalidArgument when not even one slot fits.
Result<uint64_t> SlabBytesForPool(uint64_t pool_bytes, uint64_t slab_bytes, std::string_view tier);
// A slot for a block: InvalidArgument when the block does not fit a slab,
// ResourceExhausted when the tier is full.
Result<TierSlot> AllocateSlot(SlabAllocator& slabs, uint64_t block_bytes, std::string_view tier);

}  // namespace tierkv
