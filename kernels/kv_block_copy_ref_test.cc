#include "kernels/kv_block_copy_ref.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/kv_cache_write_ref.h"

namespace tierkv::kernels {
namespace {

TEST(KvBlockCopyRefTest, GatherThenScatterRestoresPages) {
  const size_t page_bytes = 48;
  const int n_pages = 6;
  std::vector<std::byte> pool(page_bytes * n_pages);
  for (size_t i = 0; i < pool.size(); ++i) pool[i] = static_cast<std::byte>(i * 7 + 1);
  const int32_t pages[] = {4, 1, 3};
  std::vector<std::byte> staging(page_bytes * 3);
  KvBlockGatherRef(pool.data(), page_bytes, pages, 3, staging.data());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(0, std::memcmp(staging.data() + i * page_bytes, pool.data() + pages[i] * page_bytes,
                             page_bytes));
  }
  std::vector<std::byte> other(pool.size(), std::byte{0});
  const int32_t dest[] = {0, 2, 5};
  KvBlockScatterRef(staging.data(), page_bytes, dest, 3, other.data());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(0, std::memcmp(other.data() + dest[i] * page_bytes,
                             pool.data() + pages[i] * page_bytes, page_bytes));
  }
  EXPECT_EQ(other[page_bytes], std::byte{0});  // page 1 untouched
}

TEST(KvCacheWriteRefTest, RowsLandAtTheirPositions) {
  const int bt = 2, kv_dim = 3;
  std::vector<float> pool(4 * 2 * bt * kv_dim, -1.0f);
  PagedKv layer{pool.data(), pool.data() + bt * kv_dim, 2 * bt * kv_dim, bt, kv_dim, KvDtype::kF32};
  const int32_t table[] = {2, 0, 3};
  std::vector<float> k(3 * kv_dim), v(3 * kv_dim);
  for (int i = 0; i < 3 * kv_dim; ++i) {
    k[i] = static_cast<float>(i);
    v[i] = 100.0f + i;
  }
  KvCacheWriteRef(k.data(), v.data(), 3, 1, table, layer);         // positions 1, 2, 3
  EXPECT_EQ(pool[2 * 12 + 1 * kv_dim], 0.0f);                      // pos 1: page 2, row 1
  EXPECT_EQ(pool[0 * 12 + 0 * kv_dim + 1], 4.0f);                  // pos 2: page 0, row 0
  EXPECT_EQ(pool[0 * 12 + bt * kv_dim + 1 * kv_dim + 2], 108.0f);  // pos 3 V: page 0, row 1
  EXPECT_EQ(pool[2 * 12], -1.0f);                                  // pos 0 untouched
}

}  // namespace
}  // namespace tierkv::kernels
