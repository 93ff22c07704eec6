#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"
#include "kernels/kv_block_copy.cuh"
#include "kernels/kv_block_copy_ref.h"
#include "kernels/kv_cases.h"

namespace tierkv::kernels::testing {

// Gather and scatter against KvBlockGatherRef / KvBlockScatterRef, as harness
// cases (kernel_cases.h), byte for byte: the 8-layer model's 256 KiB page,
// small aligned pages, and odd sizes that take the byte-wise path; a scatter
// is compared over the whole pool, untouched pages included.
std::vector<KernelCase> KvBlockCopyCases() {
  std::vector<KernelCase> cases;
  uint64_t seed = 1;
  for (size_t page_bytes : {size_t{256} * 1024, size_t{4096}, size_t{1000}, size_t{17}}) {
    for (int n_blocks : {1, 7, 64}) {
      const BlockCopySpec s{page_bytes, n_blocks};
      const uint64_t sd = seed++;
      const std::string shape = std::to_string(page_bytes) + "B x" + std::to_string(n_blocks);
      cases.push_back({"gather " + shape, 0.0, [s, sd]() -> Result<CaseOutputs> {
                         const BlockCopyInputs in = MakeBlockCopyInputs(s, sd);
                         std::vector<std::byte> expected(in.staging.size());
                         KvBlockGatherRef(in.pool.data(), s.page_bytes, in.pages.data(), s.n_blocks,
                                          expected.data());
                         DeviceBuffer d_pool = Upload(in.pool);
                         DeviceBuffer d_pages = Upload(in.pages);
                         TIERKV_ASSIGN_OR_RETURN(DeviceBuffer d_staging,
                                                 DeviceBuffer::Allocate(expected.size()));
                         TIERKV_RETURN_IF_ERROR(KvBlockGatherCuda(
                             d_pool.as<std::byte>(), s.page_bytes, d_pages.as<int32_t>(),
                             s.n_blocks, d_staging.as<std::byte>(), nullptr));
                         return CaseOutputs{
                             BytesAsFloats(Download<std::byte>(d_staging, expected.size())),
                             BytesAsFloats(expected)};
                       }});
      cases.push_back({"scatter " + shape, 0.0, [s, sd]() -> Result<CaseOutputs> {
                         const BlockCopyInputs in = MakeBlockCopyInputs(s, sd);
                         std::vector<std::byte> expected = in.pool;
                         KvBlockScatterRef(in.staging.data(), s.page_bytes, in.pages.data(),
                                           s.n_blocks, expected.data());
                         DeviceBuffer d_pool = Upload(in.pool);
                         DeviceBuffer d_pages = Upload(in.pages);
                         DeviceBuffer d_src = Upload(in.staging);
                         TIERKV_RETURN_IF_ERROR(KvBlockScatterCuda(
                             d_src.as<std::byte>(), s.page_bytes, d_pages.as<int32_t>(), s.n_blocks,
                             d_pool.as<std::byte>(), nullptr));
                         return CaseOutputs{
                             BytesAsFloats(Download<std::byte>(d_pool, expected.size())),
                             BytesAsFloats(expected)};
                       }});
    }
  }
  return cases;
}

namespace {

std::vector<std::byte> RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> v(n);
  for (std::byte& b : v) b = static_cast<std::byte>(rng());
  return v;
}

std::vector<int32_t> ShuffledPages(int n_pages, int n_blocks, uint64_t seed) {
  std::vector<int32_t> pages(n_pages);
  std::iota(pages.begin(), pages.end(), 0);
  std::shuffle(pages.begin(), pages.end(), std::mt19937(seed));
  pages.resize(n_blocks);
  return pages;
}

// The daemon's pool reaches the kernel as pinned host memory: the kernel
// reads it across PCIe with no intermediate device copy.
TEST(KvBlockCopyCudaTest, ScatterFromPinnedHostStaging) {
  TIERKV_SKIP_WITHOUT_GPU();
  constexpr size_t kPageBytes = 64 * 1024;
  constexpr int kBlocks = 16;
  auto pinned = PinnedBuffer::Allocate(kPageBytes * kBlocks);
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  const std::vector<std::byte> staging = RandomBytes(kPageBytes * kBlocks, 3);
  std::memcpy(pinned->get(), staging.data(), staging.size());
  void* device_view = nullptr;
  ASSERT_EQ(cudaHostGetDevicePointer(&device_view, pinned->get(), 0), cudaSuccess);

  std::vector<std::byte> pool(kPageBytes * (kBlocks + 4), std::byte{0});
  const std::vector<int32_t> pages = ShuffledPages(kBlocks + 4, kBlocks, 4);
  DeviceBuffer d_pool = Upload(pool);
  DeviceBuffer d_pages = Upload(pages);
  KvBlockScatterRef(staging.data(), kPageBytes, pages.data(), kBlocks, pool.data());
  ASSERT_TRUE(KvBlockScatterCuda(static_cast<const std::byte*>(device_view), kPageBytes,
                                 d_pages.as<int32_t>(), kBlocks, d_pool.as<std::byte>(), nullptr)
                  .ok());
  EXPECT_EQ(Download<std::byte>(d_pool, pool.size()), pool);
}

TEST(KvBlockCopyCudaTest, BadArgumentsAreInvalidArgument) {
  std::byte b{};
  int32_t page = 0;
  EXPECT_TRUE(KvBlockGatherCuda(&b, 16, &page, -1, &b, nullptr).IsInvalidArgument());
  EXPECT_TRUE(KvBlockGatherCuda(nullptr, 16, &page, 1, &b, nullptr).IsInvalidArgument());
  EXPECT_TRUE(KvBlockScatterCuda(&b, 0, &page, 1, &b, nullptr).IsInvalidArgument());
  EXPECT_TRUE(KvBlockScatterCuda(nullptr, 16, nullptr, 0, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace tierkv::kernels::testing
