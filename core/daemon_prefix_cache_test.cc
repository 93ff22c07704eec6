// DaemonPrefixCache::Borrow against a real tierkvd: the lent bytes are the
// stored bytes, lie in the shared pool on a Unix socket, and stay pinned
// until the borrow ends.
#include "core/daemon_prefix_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/daemon_process.h"

namespace tierkv::core {
namespace {

constexpr uint64_t kBlockBytes = 1024;
constexpr uint32_t kBlockTokens = 4;
constexpr size_t kStoredBlocks = 3;

using tierkv::testing::DaemonProcess;

class DaemonPrefixCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonProcess>();
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
    cache_ = Open(daemon_->socket_path());
    ASSERT_NE(cache_, nullptr);
    // kStoredBlocks blocks of a prompt one block longer than that.
    const Namespace& ns = cache_->ns();
    prompt_ = tierkv::testing::MakePrompt(ns, kStoredBlocks + 1);
    payload_ = tierkv::testing::Payload(ns, kStoredBlocks, /*seed=*/11);
    std::vector<std::span<const std::byte>> src;
    for (size_t i = 0; i < kStoredBlocks; ++i) src.push_back(Block(i));
    ASSERT_TRUE(cache_
                    ->Store(std::span(prompt_.keys).first(kStoredBlocks),
                            std::span(prompt_.tokens).first(kStoredBlocks * kBlockTokens), src)
                    .ok());
  }

  std::unique_ptr<DaemonPrefixCache> Open(const std::string& address) {
    ConnectOptions o;
    o.address = address;
    auto cache = DaemonPrefixCache::Open(o, tierkv::testing::TestSpec(kBlockBytes, kBlockTokens));
    EXPECT_TRUE(cache.ok()) << cache.status().ToString();
    return cache.ok() ? std::move(cache).value() : nullptr;
  }

  // The bytes stored for block i.
  std::span<const std::byte> Block(size_t i) const {
    return std::span(payload_).subspan(i * kBlockBytes, kBlockBytes);
  }

  // How many leading blocks of the prompt the daemon still has.
  uint32_t Stored() {
    auto n = cache_->Lookup(prompt_.keys, prompt_.tokens);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : 0;
  }

  Result<BorrowedBlocks> BorrowAll(PrefixCache& cache) {
    return cache.Borrow(prompt_.keys, prompt_.tokens, {});
  }

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<DaemonPrefixCache> cache_;
  tierkv::testing::Prompt prompt_;
  std::vector<std::byte> payload_;
};

bool SameBytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool Inside(std::span<const std::byte> block, std::span<std::byte> region) {
  return block.data() >= region.data() &&
         block.data() + block.size() <= region.data() + region.size();
}

TEST_F(DaemonPrefixCacheTest, LendsTheStoredBytesInTheSharedPool) {
  ASSERT_TRUE(cache_->client().is_local());
  const std::span<std::byte> pool = cache_->shared_host_region();
  ASSERT_FALSE(pool.empty());
  auto borrowed = BorrowAll(*cache_);
  ASSERT_TRUE(borrowed.ok()) << borrowed.status().ToString();
  // The prompt's last block was never stored: the borrow stops before it.
  ASSERT_EQ(borrowed->size(), kStoredBlocks);
  for (size_t i = 0; i < kStoredBlocks; ++i) {
    const std::span<const std::byte> bytes = (*borrowed)[i].host_bytes;
    EXPECT_TRUE(SameBytes(bytes, Block(i))) << "block " << i;
    EXPECT_TRUE(Inside(bytes, pool)) << "block " << i;
  }
}

TEST_F(DaemonPrefixCacheTest, WithoutAGpuTierDevicePoolBorrowsLendHostBytes) {
  auto pool = cache_->shared_device_pool();
  if (pool.ok()) GTEST_SKIP() << "this daemon has a GPU tier (daemon_gpu_cuda_test covers it)";
  EXPECT_EQ(pool.status().code(), StatusCode::kUnavailable) << pool.status().ToString();
  auto borrowed = cache_->Borrow(prompt_.keys, prompt_.tokens, {.device_pool = true});
  ASSERT_TRUE(borrowed.ok()) << borrowed.status().ToString();
  ASSERT_EQ(borrowed->size(), kStoredBlocks);
  for (size_t i = 0; i < kStoredBlocks; ++i) {
    EXPECT_FALSE((*borrowed)[i].in_device_pool);
    EXPECT_TRUE(SameBytes((*borrowed)[i].host_bytes, Block(i))) << "block " << i;
  }
}

TEST_F(DaemonPrefixCacheTest, BorrowPinsTheBlocksUntilItEnds) {
  auto borrowed = BorrowAll(*cache_);
  ASSERT_TRUE(borrowed.ok()) << borrowed.status().ToString();
  ASSERT_EQ(borrowed->size(), kStoredBlocks);
  // An eviction of everything unpinned leaves the borrowed blocks in place.
  ASSERT_TRUE(cache_->client().Evict(nullptr).ok());
  EXPECT_EQ(Stored(), kStoredBlocks);
  for (size_t i = 0; i < kStoredBlocks; ++i) {
    EXPECT_TRUE(SameBytes((*borrowed)[i].host_bytes, Block(i))) << "block " << i;
  }
  borrowed->Release();
  EXPECT_TRUE(borrowed->empty());
  ASSERT_TRUE(cache_->client().Evict(nullptr).ok());
  EXPECT_EQ(Stored(), 0u);
}

TEST_F(DaemonPrefixCacheTest, OverTcpLendsTheReplyBytesAndHasNoSharedRegion) {
  auto remote = Open(daemon_->tcp_address());
  ASSERT_NE(remote, nullptr);
  EXPECT_FALSE(remote->client().is_local());
  EXPECT_TRUE(remote->shared_host_region().empty());
  auto borrowed = BorrowAll(*remote);
  ASSERT_TRUE(borrowed.ok()) << borrowed.status().ToString();
  ASSERT_EQ(borrowed->size(), kStoredBlocks);
  for (size_t i = 0; i < kStoredBlocks; ++i) {
    EXPECT_TRUE(SameBytes((*borrowed)[i].host_bytes, Block(i))) << "block " << i;
  }
}

TEST_F(DaemonPrefixCacheTest, NothingStoredLendsNothing) {
  ASSERT_TRUE(cache_->client().Evict(nullptr).ok());
  auto borrowed = BorrowAll(*cache_);
  ASSERT_TRUE(borrowed.ok()) << borrowed.status().ToString();
  EXPECT_TRUE(borrowed->empty());
}

}  // namespace
}  // namespace tierkv::core
