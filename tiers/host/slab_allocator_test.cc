#include "tiers/host/slab_allocator.h"

#include <gtest/gtest.h>

#include <set>

namespace tierkv {
namespace {

constexpr uint64_t kSlab = 1 << 20;

TEST(SlabAllocatorTest, SlotsAreAlignedAndDistinct) {
  SlabAllocator a(4 * kSlab, kSlab);
  const uint32_t cls = a.ClassFor(a.SlotBytesFor(100 * 1024));
  EXPECT_EQ(a.class_slot_bytes(cls), 100u * 1024);
  std::set<uint64_t> seen;
  while (auto off = a.Allocate(cls)) {
    EXPECT_EQ(*off % SlabAllocator::kSlotAlignment, 0u);
    EXPECT_TRUE(seen.insert(*off).second);
  }
  EXPECT_EQ(seen.size(), 4u * (kSlab / (100 * 1024)));  // 10 per slab
  EXPECT_FALSE(a.HasFreeSlab());
}

TEST(SlabAllocatorTest, RoundsUpToAlignment) {
  SlabAllocator a(kSlab, kSlab);
  EXPECT_EQ(a.SlotBytesFor(1), 4096u);
  EXPECT_EQ(a.SlotBytesFor(4097), 8192u);
  EXPECT_EQ(a.SlotBytesFor(kSlab + 1), 0u);  // does not fit a slab
}

TEST(SlabAllocatorTest, EmptiedSlabsReturnToOtherClasses) {
  SlabAllocator a(2 * kSlab, kSlab);
  const uint32_t small = a.ClassFor(64 * 1024);
  const uint32_t big = a.ClassFor(kSlab);
  std::vector<uint64_t> offs;
  while (auto off = a.Allocate(small)) offs.push_back(*off);
  EXPECT_EQ(offs.size(), 32u);
  EXPECT_FALSE(a.Allocate(big).has_value());
  // Free one whole slab's worth of small slots: the big class can take it.
  for (uint64_t off : offs) {
    if (off < kSlab) a.Free(small, off);
  }
  EXPECT_TRUE(a.Allocate(big).has_value());
  EXPECT_EQ(a.used_bytes(), a.capacity_bytes());
}

TEST(SlabAllocatorTest, FreedSlotsAreReused) {
  SlabAllocator a(kSlab, kSlab);
  const uint32_t cls = a.ClassFor(kSlab / 4);
  std::vector<uint64_t> offs;
  for (int i = 0; i < 4; ++i) offs.push_back(*a.Allocate(cls));
  EXPECT_FALSE(a.Allocate(cls));
  a.Free(cls, offs[2]);
  EXPECT_EQ(a.Allocate(cls), offs[2]);
  EXPECT_EQ(a.used_bytes(), kSlab);
}

}  // namespace
}  // namespace tierkv
