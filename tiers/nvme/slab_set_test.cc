#include "tiers/nvme/slab_set.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "tiers/nvme/testing/fault_injection_file_system.h"
#include "tiers/nvme/testing/temp_dir.h"

namespace tierkv::nvme {
namespace {

using testing::FaultInjectionFileSystem;
using testing::FsOp;
using testing::TempDir;

constexpr uint64_t kKiB = 1024;
// Most tests ask the disk again at once after it refused a file.
constexpr std::chrono::milliseconds kNoRetryWait{0};

class SlabSetTest : public ::testing::Test {
 protected:
  std::unique_ptr<SlabSet> Open(uint64_t capacity, uint64_t slab, FileSystem* fs = nullptr,
                                std::chrono::milliseconds disk_full_retry = kNoRetryWait) {
    Result<std::unique_ptr<SlabSet>> set =
        SlabSet::Open(fs ? fs : DefaultFileSystem(), dir_.Sub("slabs"),
                      {capacity, slab, disk_full_retry});
    EXPECT_TRUE(set.ok()) << set.status().ToString();
    return set.ok() ? std::move(set).value() : nullptr;
  }
  SlotId Alloc(SlabSet& set, uint64_t bytes) {
    Result<SlotId> slot = set.Allocate(bytes);
    EXPECT_TRUE(slot.ok()) << slot.status().ToString();
    return slot.ok() ? *slot : SlotId{};
  }

  TempDir dir_;
};

TEST_F(SlabSetTest, RoundsBlocksUpToTheirSizeClass) {
  auto set = Open(64 * kKiB, 16 * kKiB);
  EXPECT_EQ(Alloc(*set, 5000).slot_bytes, 8192u);
  EXPECT_EQ(Alloc(*set, 4096).slot_bytes, 4096u);
  EXPECT_EQ(set->file_bytes(), 32 * kKiB);
  EXPECT_EQ(set->used_bytes(), 12 * kKiB);
}

TEST_F(SlabSetTest, HandsOutDistinctSlotsAndReusesFreedOnes) {
  auto set = Open(64 * kKiB, 16 * kKiB);
  SlotId a = Alloc(*set, 4096), b = Alloc(*set, 4096), c = Alloc(*set, 4096);
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(b.index, 1u);
  EXPECT_EQ(c.index, 2u);
  set->Free(b);
  set->Free(b);  // a second free is a no-op
  EXPECT_EQ(set->used_slots(), 2u);
  EXPECT_EQ(Alloc(*set, 4096), b);
  Result<IoTarget> target = set->Target(c);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->offset, 2 * 4096u);
}

TEST_F(SlabSetTest, FullTierIsResourceExhaustedUntilASlotIsFreed) {
  auto set = Open(32 * kKiB, 16 * kKiB);
  std::vector<SlotId> slots;
  for (int i = 0; i < 8; ++i) slots.push_back(Alloc(*set, 4096));
  Status full = set->Allocate(4096).status();
  EXPECT_TRUE(full.IsResourceExhausted()) << full.ToString();
  set->Free(slots[5]);
  EXPECT_EQ(Alloc(*set, 4096), slots[5]);
}

TEST_F(SlabSetTest, TakesOverAnEmptyFileOfAnotherClassWhenFull) {
  auto set = Open(32 * kKiB, 16 * kKiB);
  SlotId small = Alloc(*set, 4096);
  SlotId big = Alloc(*set, 16 * kKiB);
  EXPECT_TRUE(set->Allocate(16 * kKiB).status().IsResourceExhausted());
  set->Free(small);
  SlotId big2 = Alloc(*set, 16 * kKiB);
  EXPECT_EQ(big2.slot_bytes, 16 * kKiB);
  EXPECT_NE(big2, big);
  EXPECT_EQ(set->file_bytes(), 32 * kKiB);
}

TEST_F(SlabSetTest, ReopenedSetIsFreeUntilSlotsAreClaimed) {
  SlotId a, b;
  {
    auto set = Open(64 * kKiB, 16 * kKiB);
    a = Alloc(*set, 4096);
    b = Alloc(*set, 4096);
  }
  auto set = Open(64 * kKiB, 16 * kKiB);
  EXPECT_EQ(set->file_bytes(), 16 * kKiB);
  EXPECT_EQ(set->used_slots(), 0u);
  EXPECT_TRUE(set->Claim(b).ok());
  EXPECT_EQ(set->Claim(b).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(set->Claim(SlotId{4096, 0, 4}).IsInvalidArgument());  // past the end
  EXPECT_TRUE(set->Claim(SlotId{4096, 3, 0}).IsInvalidArgument());  // no such file
  EXPECT_EQ(Alloc(*set, 4096), a);
}

TEST_F(SlabSetTest, ExistingFilesKeepTheirSlotsWhenSlabBytesShrinks) {
  { Alloc(*Open(64 * kKiB, 32 * kKiB), 4096); }
  auto set = Open(64 * kKiB, 8 * kKiB);
  EXPECT_TRUE(set->Claim(SlotId{4096, 0, 7}).ok());
  EXPECT_EQ(set->file_bytes(), 32 * kKiB);
}

TEST_F(SlabSetTest, ADiskThatRefusedAFileIsNotAskedAgainForEveryBlock) {
  constexpr int kAllocations = 100;
  FaultInjectionFileSystem fs(DefaultFileSystem());
  auto set = Open(256 * kKiB, 16 * kKiB, &fs, std::chrono::milliseconds(10000));
  Alloc(*set, 4096);  // one file of four slots is made
  for (int i = 0; i < 3; ++i) Alloc(*set, 4096);
  fs.InjectError(FsOp::kAllocate, ENOSPC);
  for (int i = 0; i < kAllocations; ++i) {
    Status s = set->Allocate(4096).status();
    ASSERT_TRUE(s.IsResourceExhausted()) << s.ToString();
    EXPECT_NE(s.message().find("disk full"), std::string_view::npos) << s.ToString();
  }
  EXPECT_EQ(fs.injected_failures(FsOp::kAllocate), 1) << "fallocate was retried for every block";
  EXPECT_TRUE(set->disk_full());
  // The files it has stay usable: a freed slot is taken again.
  set->Free(SlotId{4096, 0, 2});
  EXPECT_EQ(Alloc(*set, 4096).index, 2u);
}

TEST_F(SlabSetTest, DiskFullWhileCreatingAFileIsAClearError) {
  FaultInjectionFileSystem fs(DefaultFileSystem());
  auto set = Open(64 * kKiB, 16 * kKiB, &fs);
  fs.InjectError(FsOp::kAllocate, ENOSPC, 1);
  Status s = set->Allocate(4096).status();
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_NE(s.message().find("disk full"), std::string_view::npos) << s.ToString();
  EXPECT_EQ(set->file_bytes(), 0u);
  EXPECT_EQ(Alloc(*set, 4096).index, 0u);
}

}  // namespace
}  // namespace tierkv::nvme
