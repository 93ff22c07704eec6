#include "daemon/record_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

namespace tierkv {
namespace {

TEST(RecordPoolTest, RecordsAreAlignedDistinctAndDoNotOverlap) {
  RecordPool pool(100);
  EXPECT_EQ(pool.record_bytes(), 104u);
  std::vector<std::byte*> records;
  // More than one chunk's worth.
  const size_t n = 3 * RecordPool::kChunkBytes / pool.record_bytes();
  for (size_t i = 0; i < n; ++i) {
    auto* r = static_cast<std::byte*>(pool.Allocate());
    ASSERT_EQ(reinterpret_cast<uintptr_t>(r) % RecordPool::kAlignment, 0u);
    std::memset(r, static_cast<int>(i & 0xFF), pool.record_bytes());
    records.push_back(r);
  }
  EXPECT_EQ(pool.live_records(), n);
  // Each record still holds what was written into it: none overlaps another.
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < pool.record_bytes(); ++b) {
      ASSERT_EQ(records[i][b], static_cast<std::byte>(i & 0xFF)) << "record " << i;
    }
  }
  std::set<std::byte*> distinct(records.begin(), records.end());
  EXPECT_EQ(distinct.size(), n);
  for (std::byte* r : records) pool.Free(r);
  EXPECT_EQ(pool.live_records(), 0u);
}

TEST(RecordPoolTest, FreedRecordsAreReusedBeforeNewOnes) {
  RecordPool pool(64);
  void* a = pool.Allocate();
  void* b = pool.Allocate();
  pool.Free(a);
  pool.Free(b);
  std::set<void*> again = {pool.Allocate(), pool.Allocate()};
  EXPECT_EQ(again, (std::set<void*>{a, b}));
}

TEST(RecordPoolTest, RecordsLargerThanAChunkStillGetOneEach) {
  RecordPool pool(RecordPool::kChunkBytes + 8);
  void* a = pool.Allocate();
  void* b = pool.Allocate();
  EXPECT_NE(a, b);
  std::memset(a, 1, pool.record_bytes());
  std::memset(b, 2, pool.record_bytes());
  EXPECT_EQ(static_cast<std::byte*>(a)[pool.record_bytes() - 1], std::byte{1});
  pool.Free(a);
  pool.Free(b);
}

}  // namespace
}  // namespace tierkv
