#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kv_cache_write.cuh"
#include "kernels/kv_cache_write_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

using testing::Download;
using testing::EncodeAs;
using testing::RandomVector;
using testing::RoundToDtype;
using testing::Upload;

// Writes rows at a ragged offset into shuffled pages of a K|V-interleaved pool
// and compares the whole pool, byte for byte, with KvCacheWriteRef's result
// stored in the same dtype (the kernel rounds to nearest even, as F32ToF16 and
// F32ToBf16 do).
TEST(KvCacheWriteCudaTest, MatchesReferenceInEveryDtype) {
  TIERKV_SKIP_WITHOUT_GPU();
  constexpr int kBlockTokens = 16;
  constexpr int kKvDim = 8 * 128;
  constexpr int kPages = 6;
  constexpr int64_t kStride = 2 * kBlockTokens * kKvDim;
  const std::vector<int32_t> table = {4, 1, 5, 0};
  for (KvDtype dtype : {KvDtype::kF32, KvDtype::kF16, KvDtype::kBf16}) {
    for (auto [first_pos, n_tokens] : {std::pair{0, 1}, std::pair{15, 2}, std::pair{3, 50}}) {
      SCOPED_TRACE(::testing::Message()
                   << KvDtypeName(dtype) << " " << first_pos << "+" << n_tokens);
      std::vector<float> pool = RandomVector(static_cast<size_t>(kPages) * kStride, 1);
      RoundToDtype(pool, dtype);
      const std::vector<float> k = RandomVector(static_cast<size_t>(n_tokens) * kKvDim, 2);
      const std::vector<float> v = RandomVector(static_cast<size_t>(n_tokens) * kKvDim, 3);
      DeviceBuffer d_pool = Upload(EncodeAs(pool, dtype));
      KvCacheWriteRef(
          k.data(), v.data(), n_tokens, first_pos, table.data(),
          {pool.data(), pool.data() + kBlockTokens * kKvDim, kStride, kBlockTokens, kKvDim});
      const std::vector<std::byte> expected = EncodeAs(pool, dtype);

      DeviceBuffer d_k = Upload(k);
      DeviceBuffer d_v = Upload(v);
      DeviceBuffer d_table = Upload(table);
      std::byte* base = d_pool.as<std::byte>();
      const DevicePagedKv kv{base,    base + kBlockTokens * kKvDim * KvDtypeBytes(dtype),
                             kStride, kBlockTokens,
                             kKvDim,  dtype};
      ASSERT_TRUE(KvCacheWriteCuda(d_k.as<float>(), d_v.as<float>(), n_tokens, first_pos,
                                   d_table.as<int32_t>(), kv, nullptr)
                      .ok());
      EXPECT_EQ(Download<std::byte>(d_pool, expected.size()), expected);
    }
  }
}

TEST(KvCacheWriteCudaTest, BadArgumentsAreInvalidArgument) {
  float dummy = 0.0f;
  int32_t table = 0;
  const DevicePagedKv kv{&dummy, &dummy, 16, 16, 1, KvDtype::kF32};
  EXPECT_TRUE(KvCacheWriteCuda(&dummy, &dummy, -1, 0, &table, kv, nullptr).IsInvalidArgument());
  DevicePagedKv narrow = kv;
  narrow.page_stride = 15;
  EXPECT_TRUE(KvCacheWriteCuda(&dummy, &dummy, 1, 0, &table, narrow, nullptr).IsInvalidArgument());
  EXPECT_TRUE(KvCacheWriteCuda(nullptr, &dummy, 1, 0, &table, kv, nullptr).IsInvalidArgument());
}

}  // namespace
}  // namespace tierkv::kernels
