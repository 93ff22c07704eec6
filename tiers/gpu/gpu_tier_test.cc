// GpuTier's slot and copy rules over host-backed device memory (no GPU here:
// gpu_tier_cuda_test.cc runs the same on a real device).
#include "tiers/gpu/gpu_tier.h"

#include <gtest/gtest.h>

#include <vector>

#include "tiers/gpu/testing/host_backed_device_memory.h"

namespace tierkv {
namespace {

std::unique_ptr<GpuTier> MakeTier(uint64_t bytes, uint64_t slab_bytes,
                                  testing::HostBackedDeviceMemory** memory = nullptr) {
  auto mem = std::make_unique<testing::HostBackedDeviceMemory>(bytes);
  if (memory) *memory = mem.get();
  auto tier = GpuTier::Create(std::move(mem), slab_bytes);
  EXPECT_TRUE(tier.ok()) << tier.status().ToString();
  return tier.ok() ? std::move(*tier) : nullptr;
}

std::vector<std::byte> Pattern(size_t n, int seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte((i * 131 + seed) & 0xff);
  return v;
}

TEST(GpuTierTest, WriteThenReadIsByteExact) {
  auto tier = MakeTier(8 << 20, 4 << 20);
  auto slot = tier->Allocate(100000);
  ASSERT_TRUE(slot.ok());
  const auto in = Pattern(100000, 3);
  std::vector<std::byte> out(in.size());
  ASSERT_TRUE(tier->Write(*slot, in).ok());
  ASSERT_TRUE(tier->Read(*slot, out).ok());
  EXPECT_EQ(in, out);
  EXPECT_EQ(tier->used_bytes(), 102400u);
}

TEST(GpuTierTest, AsyncWriteLandsWhenReapedAndInOrder) {
  testing::HostBackedDeviceMemory* memory = nullptr;
  auto tier = MakeTier(8 << 20, 4 << 20, &memory);
  auto a = tier->Allocate(4096);
  auto b = tier->Allocate(4096);
  ASSERT_TRUE(a.ok() && b.ok());
  const auto pa = Pattern(4096, 1), pb = Pattern(4096, 2);
  std::vector<int> order;
  ASSERT_TRUE(tier->WriteAsync(*a, pa, [&](Status s) { order.push_back(s.ok() ? 1 : -1); }).ok());
  ASSERT_TRUE(tier->WriteAsync(*b, pb, [&](Status s) { order.push_back(s.ok() ? 2 : -2); }).ok());
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(memory->copies_in_flight(), 2u);
  tier->memory().ReapCompletions();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  std::vector<std::byte> out(4096);
  ASSERT_TRUE(tier->Read(*b, out).ok());
  EXPECT_EQ(out, pb);
}

TEST(GpuTierTest, FailedCopyReportsItsError) {
  testing::HostBackedDeviceMemory* memory = nullptr;
  auto tier = MakeTier(8 << 20, 4 << 20, &memory);
  auto slot = tier->Allocate(4096);
  ASSERT_TRUE(slot.ok());
  memory->FailNextCopies(1);
  const auto p = Pattern(4096, 5);
  Status got;
  ASSERT_TRUE(tier->WriteAsync(*slot, p, [&](Status s) { got = s; }).ok());
  tier->memory().Drain();
  EXPECT_EQ(got.code(), StatusCode::kInternal);
}

TEST(GpuTierTest, FullTierSaysResourceExhaustedAndFreeGivesRoomBack) {
  auto tier = MakeTier(1 << 20, 1 << 20);
  auto a = tier->Allocate(1 << 19);
  auto b = tier->Allocate(1 << 19);
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = tier->Allocate(1 << 19);
  EXPECT_TRUE(c.status().IsResourceExhausted());
  tier->Free(*a);
  EXPECT_TRUE(tier->Allocate(1 << 19).ok());
}

TEST(GpuTierTest, RejectsBlocksLargerThanASlabAndCopiesLargerThanTheSlot) {
  auto tier = MakeTier(4 << 20, 1 << 20);
  EXPECT_EQ(tier->Allocate((1 << 20) + 1).status().code(), StatusCode::kInvalidArgument);
  auto slot = tier->Allocate(4096);
  ASSERT_TRUE(slot.ok());
  const auto big = Pattern(8192, 0);
  EXPECT_EQ(tier->Write(*slot, big).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tier->WriteAsync(*slot, big, [](Status) {}).code(), StatusCode::kInvalidArgument);
}

TEST(GpuTierTest, PoolSmallerThanOneSlotIsRejected) {
  auto tier = GpuTier::Create(std::make_unique<testing::HostBackedDeviceMemory>(100));
  EXPECT_EQ(tier.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tierkv
