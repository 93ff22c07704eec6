#include "core/block_copy_runs.h"

#include <gtest/gtest.h>

#include <vector>

namespace tierkv::core {
namespace {

constexpr size_t kBlockBytes = 64;

// Where slot `i` of a pool of kBlockBytes slots starts.
const std::byte* Slot(const std::vector<std::byte>& pool, int i) {
  return pool.data() + i * kBlockBytes;
}

TEST(ContiguousRunsTest, ConsecutiveSlotsMakeOneRun) {
  const std::vector<std::byte> pool(8 * kBlockBytes);
  const std::vector<const std::byte*> sources = {Slot(pool, 2), Slot(pool, 3), Slot(pool, 4)};
  const auto runs = ContiguousRuns(sources, kBlockBytes);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].source, Slot(pool, 2));
  EXPECT_EQ(runs[0].first_block, 0);
  EXPECT_EQ(runs[0].n_blocks, 3);
}

TEST(ContiguousRunsTest, GapsAndBackwardSlotsStartNewRuns) {
  const std::vector<std::byte> pool(8 * kBlockBytes);
  // Slots 6, 7 | 1 | 3, 4 | 2: a gap, a step back, and a lone block.
  const std::vector<const std::byte*> sources = {Slot(pool, 6), Slot(pool, 7), Slot(pool, 1),
                                                 Slot(pool, 3), Slot(pool, 4), Slot(pool, 2)};
  const auto runs = ContiguousRuns(sources, kBlockBytes);
  ASSERT_EQ(runs.size(), 4u);
  const int expect_first[] = {0, 2, 3, 5};
  const int expect_n[] = {2, 1, 2, 1};
  const int expect_slot[] = {6, 1, 3, 2};
  for (size_t r = 0; r < runs.size(); ++r) {
    EXPECT_EQ(runs[r].first_block, expect_first[r]) << "run " << r;
    EXPECT_EQ(runs[r].n_blocks, expect_n[r]) << "run " << r;
    EXPECT_EQ(runs[r].source, Slot(pool, expect_slot[r])) << "run " << r;
  }
}

TEST(ContiguousRunsTest, NoBlocksNoRuns) { EXPECT_TRUE(ContiguousRuns({}, kBlockBytes).empty()); }

}  // namespace
}  // namespace tierkv::core
