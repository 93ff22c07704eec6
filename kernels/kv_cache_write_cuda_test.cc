// KvCacheWriteCuda against KvCacheWriteRef, as harness cases (kernel_cases.h):
// rows written at ragged offsets into shuffled pages of a pool of random
// bytes, in every KV dtype; the whole pool must come out byte for byte the
// same (the kernel rounds f16 and bf16 to nearest even and quantizes q8_0 as
// QuantizeRowQ8_0Ref does), so CPU and GPU pages are interchangeable.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"
#include "kernels/kv_cache_write.cuh"
#include "kernels/kv_cases.h"

namespace tierkv::kernels::testing {

std::vector<KernelCase> KvCacheWriteCases() {
  const KvWriteSpec specs[] = {{8 * 128, 16, 0, 1},
                               {8 * 128, 16, 15, 2},
                               {8 * 128, 16, 3, 50},
                               {4 * 64, 16, 100, 700},
                               {1 * 32, 8, 7, 9}};
  std::vector<KernelCase> cases;
  uint64_t seed = 1;
  for (KvDtype dtype : kAllKvDtypes) {
    for (const KvWriteSpec& s : specs) {
      const uint64_t sd = seed++;
      cases.push_back({"kv write " + std::to_string(s.kv_dim) + " bt" +
                           std::to_string(s.block_tokens) + " " + std::to_string(s.first_pos) +
                           "+" + std::to_string(s.n_tokens) + " " + std::string(KvDtypeName(dtype)),
                       0.0, [s, dtype, sd]() -> Result<CaseOutputs> {
                         const KvWriteInputs in = MakeKvWriteInputs(s, dtype, sd);
                         DeviceBuffer d_pool = Upload(in.pool.bytes);
                         DeviceBuffer d_k = Upload(in.k);
                         DeviceBuffer d_v = Upload(in.v);
                         DeviceBuffer d_table = Upload(in.table);
                         TIERKV_RETURN_IF_ERROR(KvCacheWriteCuda(
                             d_k.as<float>(), d_v.as<float>(), s.n_tokens, s.first_pos,
                             d_table.as<int32_t>(), in.pool.Layer(d_pool.get()), nullptr));
                         CaseOutputs out;
                         out.kernel =
                             BytesAsFloats(Download<std::byte>(d_pool, in.pool.bytes.size()));
                         out.reference = BytesAsFloats(KvWriteByRef(in));
                         return out;
                       }});
    }
  }
  return cases;
}

namespace {

TEST(KvCacheWriteCudaTest, BadArgumentsAreInvalidArgument) {
  float dummy = 0.0f;
  int32_t table = 0;
  const PagedKv kv{&dummy, &dummy, 16, 16, 1, KvDtype::kF32};
  EXPECT_TRUE(KvCacheWriteCuda(&dummy, &dummy, -1, 0, &table, kv, nullptr).IsInvalidArgument());
  PagedKv narrow = kv;
  narrow.page_stride = 15;
  EXPECT_TRUE(KvCacheWriteCuda(&dummy, &dummy, 1, 0, &table, narrow, nullptr).IsInvalidArgument());
  EXPECT_TRUE(KvCacheWriteCuda(nullptr, &dummy, 1, 0, &table, kv, nullptr).IsInvalidArgument());
  const PagedKv q8{&dummy, &dummy, 16 * 34, 16, 48, KvDtype::kQ8_0};
  EXPECT_TRUE(KvCacheWriteCuda(&dummy, &dummy, 1, 0, &table, q8, nullptr).IsInvalidArgument())
      << "q8_0 rows must be whole 32-value blocks";
}

}  // namespace
}  // namespace tierkv::kernels::testing
