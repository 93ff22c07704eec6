#include "daemon/store_counters.h"

#include <gtest/gtest.h>

namespace tierkv {
namespace {

const Key128 kNs{1, 2};

TEST(StoreCountersTest, AHitCountsOnTheFastestTierAndAMissOnEveryTierAbove) {
  StoreCounters c;
  // 10 blocks asked: 2 on the GPU, 3 on the host, 1 on NVMe only, 4 nowhere.
  c.CountLookup(kNs, {.asked = 10, .on_gpu = 2, .on_host = 3, .on_nvme = 1},
                /*gpu_enabled=*/true);
  EXPECT_EQ(c.gpu.hits, 2u);
  EXPECT_EQ(c.gpu.misses, 8u);
  EXPECT_EQ(c.host.hits, 3u);
  EXPECT_EQ(c.host.misses, 5u);
  EXPECT_EQ(c.nvme.hits, 1u);
  EXPECT_EQ(c.nvme.misses, 4u);
  const NamespaceCounters ns = c.ForNamespace(kNs);
  EXPECT_EQ(ns.hits, 6u);
  EXPECT_EQ(ns.misses, 4u);
}

TEST(StoreCountersTest, WithoutAGpuTierNothingCountsOnIt) {
  StoreCounters c;
  c.CountLookup(kNs, {.asked = 4, .on_host = 4}, /*gpu_enabled=*/false);
  EXPECT_EQ(c.gpu.hits + c.gpu.misses, 0u);
  EXPECT_EQ(c.host.hits, 4u);
}

TEST(StoreCountersTest, ReadyBlocksAreCountedPerNamespace) {
  StoreCounters c;
  c.CountReady(kNs, +1);
  c.CountReady(kNs, +1);
  c.CountReady(Key128{9, 9}, +1);
  c.CountReady(kNs, -1);
  EXPECT_EQ(c.ForNamespace(kNs).blocks, 1u);
  EXPECT_EQ(c.ForNamespace(Key128{9, 9}).blocks, 1u);
  EXPECT_EQ(c.ForNamespace(Key128{5, 5}).blocks, 0u);
}

}  // namespace
}  // namespace tierkv
