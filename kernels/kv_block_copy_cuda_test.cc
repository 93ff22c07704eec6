#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kv_block_copy.cuh"
#include "kernels/kv_block_copy_ref.h"

namespace tierkv::kernels {
namespace {

using testing::Download;
using testing::Upload;

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

// Page sizes: the 8-layer model's 256 KiB page, one small aligned page, and
// odd sizes that take the byte-wise path.
constexpr size_t kPageSizes[] = {256 * 1024, 4096, 1000, 17};

TEST(KvBlockCopyCudaTest, GatherAndScatterMatchReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  uint64_t seed = 1;
  for (size_t page_bytes : kPageSizes) {
    for (int n_blocks : {1, 7, 64}) {
      SCOPED_TRACE(::testing::Message() << page_bytes << " B x " << n_blocks);
      const int n_pages = n_blocks + 5;
      const std::vector<std::byte> pool = RandomBytes(page_bytes * n_pages, seed++);
      const std::vector<int32_t> pages = ShuffledPages(n_pages, n_blocks, seed++);
      std::vector<std::byte> expected(page_bytes * n_blocks);
      KvBlockGatherRef(pool.data(), page_bytes, pages.data(), n_blocks, expected.data());

      DeviceBuffer d_pool = Upload(pool);
      DeviceBuffer d_pages = Upload(pages);
      auto d_staging = DeviceBuffer::Allocate(expected.size());
      ASSERT_TRUE(d_staging.ok());
      ASSERT_TRUE(KvBlockGatherCuda(d_pool.as<std::byte>(), page_bytes, d_pages.as<int32_t>(),
                                    n_blocks, d_staging->as<std::byte>(), nullptr)
                      .ok());
      EXPECT_EQ(Download<std::byte>(*d_staging, expected.size()), expected);

      // Scatter fresh bytes back and compare the whole pool, untouched pages included.
      const std::vector<std::byte> staging = RandomBytes(expected.size(), seed++);
      std::vector<std::byte> scattered = pool;
      KvBlockScatterRef(staging.data(), page_bytes, pages.data(), n_blocks, scattered.data());
      DeviceBuffer d_src = Upload(staging);
      ASSERT_TRUE(KvBlockScatterCuda(d_src.as<std::byte>(), page_bytes, d_pages.as<int32_t>(),
                                     n_blocks, d_pool.as<std::byte>(), nullptr)
                      .ok());
      EXPECT_EQ(Download<std::byte>(d_pool, pool.size()), scattered);
    }
  }
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
}  // namespace tierkv::kernels
