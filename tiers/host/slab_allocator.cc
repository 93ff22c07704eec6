#include "tiers/host/slab_allocator.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace tierkv {

SlabAllocator::SlabAllocator(uint64_t total_bytes, uint64_t slab_bytes) : slab_bytes_(slab_bytes) {
  const uint64_t n = slab_bytes ? total_bytes / slab_bytes : 0;
  slabs_.resize(n);
  free_slabs_.reserve(n);
  // Highest index first, so the first slabs handed out are the lowest ones.
  for (uint64_t i = n; i > 0; --i) free_slabs_.push_back(static_cast<uint32_t>(i - 1));
}

uint64_t SlabAllocator::SlotBytesFor(uint64_t block_bytes) const {
  if (block_bytes == 0) return 0;
  const uint64_t slot = (block_bytes + kSlotAlignment - 1) / kSlotAlignment * kSlotAlignment;
  return slot <= slab_bytes_ ? slot : 0;
}

uint32_t SlabAllocator::ClassFor(uint64_t slot_bytes) {
  for (uint32_t i = 0; i < classes_.size(); ++i) {
    if (classes_[i].slot_bytes == slot_bytes) return i;
  }
  SizeClass cls;
  cls.slot_bytes = slot_bytes;
  cls.slots_per_slab = static_cast<uint32_t>(slab_bytes_ / slot_bytes);
  classes_.push_back(std::move(cls));
  return static_cast<uint32_t>(classes_.size() - 1);
}

std::optional<uint64_t> SlabAllocator::Allocate(uint32_t size_class) {
  SizeClass& cls = classes_[size_class];
  if (cls.partial.empty()) {
    if (free_slabs_.empty()) return std::nullopt;
    const uint32_t s = free_slabs_.back();
    free_slabs_.pop_back();
    Slab& slab = slabs_[s];
    slab.owner = static_cast<int32_t>(size_class);
    slab.live = 0;
    slab.free_slots.clear();
    for (uint32_t i = cls.slots_per_slab; i > 0; --i) slab.free_slots.push_back(i - 1);
    slab.in_partial = true;
    cls.partial.push_back(s);
  }
  const uint32_t s = cls.partial.back();
  Slab& slab = slabs_[s];
  const uint32_t slot = slab.free_slots.back();
  slab.free_slots.pop_back();
  ++slab.live;
  if (slab.free_slots.empty()) RemoveFromPartial(cls, s);
  used_bytes_ += cls.slot_bytes;
  return uint64_t{s} * slab_bytes_ + uint64_t{slot} * cls.slot_bytes;
}

void SlabAllocator::Free(uint32_t size_class, uint64_t offset) {
  SizeClass& cls = classes_[size_class];
  const uint32_t s = static_cast<uint32_t>(offset / slab_bytes_);
  Slab& slab = slabs_[s];
  assert(slab.owner == static_cast<int32_t>(size_class) && slab.live > 0);
  slab.free_slots.push_back(static_cast<uint32_t>((offset % slab_bytes_) / cls.slot_bytes));
  --slab.live;
  used_bytes_ -= cls.slot_bytes;
  if (slab.live == 0) {
    if (slab.in_partial) RemoveFromPartial(cls, s);
    slab.owner = -1;
    slab.free_slots.clear();
    free_slabs_.push_back(s);
  } else if (!slab.in_partial) {
    slab.in_partial = true;
    cls.partial.push_back(s);
  }
}

void SlabAllocator::RemoveFromPartial(SizeClass& cls, uint32_t slab_index) {
  auto it = std::find(cls.partial.begin(), cls.partial.end(), slab_index);
  if (it != cls.partial.end()) cls.partial.erase(it);
  slabs_[slab_index].in_partial = false;
}

Result<uint64_t> SlabBytesForPool(uint64_t pool_bytes, uint64_t slab_bytes, std::string_view tier) {
  if (slab_bytes < SlabAllocator::kSlotAlignment) {
    return Status::InvalidArgument(std::string(tier) + " slab size of " +
                                   std::to_string(slab_bytes) + " bytes is smaller than one " +
                                   std::to_string(SlabAllocator::kSlotAlignment) + "-byte slot");
  }
  slab_bytes = std::min(slab_bytes, pool_bytes);
  slab_bytes -= slab_bytes % SlabAllocator::kSlotAlignment;
  if (slab_bytes == 0) {
    return Status::InvalidArgument(std::string(tier) + " pool of " + std::to_string(pool_bytes) +
                                   " bytes is smaller than one " +
                                   std::to_string(SlabAllocator::kSlotAlignment) + "-byte slot");
  }
  return slab_bytes;
}

Result<TierSlot> AllocateSlot(SlabAllocator& slabs, uint64_t block_bytes, std::string_view tier) {
  const uint64_t slot_bytes = slabs.SlotBytesFor(block_bytes);
  if (slot_bytes == 0) {
    return Status::InvalidArgument("block of " + std::to_string(block_bytes) +
                                   " bytes does not fit the " + std::string(tier) + " tier's " +
                                   std::to_string(slabs.slab_bytes()) + "-byte slabs");
  }
  const uint32_t cls = slabs.ClassFor(slot_bytes);
  auto offset = slabs.Allocate(cls);
  if (!offset) return Status::ResourceExhausted(std::string(tier) + " tier is full");
  return TierSlot{cls, *offset};
}

}  // namespace tierkv
