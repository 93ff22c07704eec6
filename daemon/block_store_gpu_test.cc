// The GPU tier's rules inside BlockStore: copies up on request, inclusion
// (a GPU copy never outlives the host copy), its own LRU, pins, and failed
// copies. The device memory here is host-backed test memory (no GPU on this
// machine); tests/integration/daemon_gpu_test.cc runs the daemon on a real one.
#include <gtest/gtest.h>

#include <cstring>

#include "daemon/block_store.h"
#include "daemon/block_store_fixture.h"
#include "tiers/gpu/testing/host_backed_device_memory.h"

namespace tierkv {
namespace {

constexpr uint64_t kGpuBytes = 4 * testing::BlockStoreFixture::kBlockBytes;  // 4 GPU copies

class BlockStoreGpuTest : public testing::BlockStoreFixture {
 protected:
  void AttachTiers() override {
    auto memory = std::make_unique<testing::HostBackedDeviceMemory>(kGpuBytes);
    device_ = memory.get();
    gpu_ = std::move(GpuTier::Create(std::move(memory), kGpuBytes)).value();
    store_->AttachGpu(gpu_.get());
  }
  void TearDown() override { store_.reset(); }  // before the GPU tier it uses

  // Matches the chain and asks for GPU copies, as an acquire from a client
  // that reads device memory does.
  std::vector<BlockEntry*> AcquireForGpu(const wire::BlockChain& c) {
    auto matched = Match(c);
    store_->StartGpuFills(matched);
    return matched;
  }

  std::vector<std::byte> GpuBytes(const BlockEntry* e) {
    std::vector<std::byte> out(e->bytes);
    EXPECT_TRUE(gpu_->Read(e->gpu_slot, out).ok());
    return out;
  }

  testing::HostBackedDeviceMemory* device_ = nullptr;
  std::unique_ptr<GpuTier> gpu_;
};

TEST_F(BlockStoreGpuTest, GpuCopiesAppearOnceTheCopyCompletesAndEqualTheHostBytes) {
  auto c = Chain(3);
  Put(c, 7);
  auto matched = AcquireForGpu(c);
  ASSERT_EQ(matched.size(), 3u);
  // Until the copies complete the blocks are served from the host.
  EXPECT_EQ(matched[0]->tier(), TierKind::kHost);
  EXPECT_EQ(store_->counters().gpu_blocks, 0u);
  store_->ReapGpu();
  EXPECT_EQ(store_->counters().gpu_blocks, 3u);
  EXPECT_EQ(gpu_->used_bytes(), 3 * kBlockBytes);
  for (BlockEntry* e : Match(c)) {
    EXPECT_EQ(e->tier(), TierKind::kGpu);
    EXPECT_TRUE(e->residency.on_host()) << "a GPU copy keeps its host copy";
    const std::byte* host = host_->At(e->host_slot.offset);
    EXPECT_EQ(GpuBytes(e), std::vector<std::byte>(host, host + kBlockBytes));
  }
  // The second match counted its hits on the GPU tier.
  EXPECT_EQ(store_->counters().gpu.hits, 3u);
  EXPECT_EQ(store_->counters().gpu.bytes_in, 3 * kBlockBytes);
}

TEST_F(BlockStoreGpuTest, FullGpuDropsItsLeastRecentlyUsedCopyAndTheBlockStaysOnHost) {
  std::vector<wire::BlockChain> prompts;
  for (int i = 0; i < 5; ++i) prompts.push_back(Chain(1, 1000 * (i + 1)));
  for (int i = 0; i < 4; ++i) {
    Put(prompts[i], static_cast<uint8_t>(i));
    AcquireForGpu(prompts[i]);
    store_->ReapGpu();
  }
  EXPECT_EQ(store_->counters().gpu_blocks, 4u);
  Match(prompts[0]);  // prompt 1 is now the least recently used GPU copy
  Put(prompts[4], 4);
  AcquireForGpu(prompts[4]);
  store_->ReapGpu();
  EXPECT_EQ(store_->counters().gpu_blocks, 4u);
  EXPECT_EQ(store_->counters().gpu.evictions, 1u);
  auto second = Match(prompts[1]);
  ASSERT_EQ(second.size(), 1u) << "a block leaving the GPU stays on the host";
  EXPECT_EQ(second[0]->tier(), TierKind::kHost);
  EXPECT_EQ(Match(prompts[0])[0]->tier(), TierKind::kGpu);
  EXPECT_EQ(Match(prompts[4])[0]->tier(), TierKind::kGpu);
}

TEST_F(BlockStoreGpuTest, PinnedGpuCopiesStayAndANewBlockIsServedFromTheHost) {
  std::vector<BlockEntry*> pinned;
  for (int i = 0; i < 4; ++i) {
    auto c = Chain(1, 1000 * (i + 1));
    Put(c, 1);
    AcquireForGpu(c);
    store_->ReapGpu();
    auto m = Match(c);
    pinned.push_back(m[0]);
  }
  store_->Pin(pinned);
  EXPECT_EQ(store_->counters().gpu_pinned_blocks, 4u);
  auto extra = Chain(1, 9000);
  Put(extra, 2);
  AcquireForGpu(extra);
  store_->ReapGpu();
  EXPECT_EQ(Match(extra)[0]->tier(), TierKind::kHost);
  for (BlockEntry* e : pinned) EXPECT_TRUE(e->residency.on_gpu());
  store_->Unpin(pinned);
  EXPECT_EQ(store_->counters().gpu_pinned_blocks, 0u);
  AcquireForGpu(extra);
  store_->ReapGpu();
  EXPECT_EQ(Match(extra)[0]->tier(), TierKind::kGpu);
}

TEST_F(BlockStoreGpuTest, LeavingTheHostTierDropsTheGpuCopy) {
  MakeStore(kSlab);  // 16 host slots, no NVMe: host eviction drops blocks
  auto first = Chain(1, 50000);
  Put(first, 1);
  AcquireForGpu(first);
  store_->ReapGpu();
  ASSERT_EQ(store_->counters().gpu_blocks, 1u);
  for (int i = 0; i < 16; ++i) Put(Chain(1, 1000 * (i + 1)), 2);
  EXPECT_TRUE(Match(first).empty());
  EXPECT_EQ(store_->counters().gpu_blocks, 0u);
  EXPECT_EQ(gpu_->used_bytes(), 0u);
}

TEST_F(BlockStoreGpuTest, ABlockBeingCopiedUpIsNotEvictedFromTheHost) {
  MakeStore(kSlab);
  auto first = Chain(1, 50000);
  Put(first, 3);
  AcquireForGpu(first);  // copy in flight, not reaped
  for (int i = 0; i < 16; ++i) Put(Chain(1, 1000 * (i + 1)), 2);
  auto m = Match(first);
  ASSERT_EQ(m.size(), 1u) << "the copy's source was evicted while it was read";
  store_->ReapGpu();
  m = Match(first);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]->tier(), TierKind::kGpu);
  EXPECT_EQ(GpuBytes(m[0]), std::vector<std::byte>(kBlockBytes, std::byte{3}));
}

TEST_F(BlockStoreGpuTest, AFailedCopyLeavesTheBlockOnTheHost) {
  auto c = Chain(2);
  Put(c, 1);
  device_->FailNextCopies(1);
  AcquireForGpu(c);
  store_->ReapGpu();
  auto m = Match(c);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]->tier(), TierKind::kHost);
  EXPECT_EQ(m[1]->tier(), TierKind::kGpu);
  EXPECT_EQ(store_->counters().gpu_copy_errors, 1u);
  EXPECT_EQ(gpu_->used_bytes(), kBlockBytes);
}

TEST_F(BlockStoreGpuTest, EvictDropsGpuCopiesToo) {
  auto c = Chain(3);
  Put(c, 1);
  AcquireForGpu(c);
  store_->ReapGpu();
  EXPECT_EQ(store_->Evict(nullptr), 3u);
  EXPECT_EQ(store_->counters().gpu_blocks, 0u);
  EXPECT_EQ(gpu_->used_bytes(), 0u);
  EXPECT_EQ(host_->used_bytes(), 0u);
}

TEST_F(BlockStoreGpuTest, EvictDropsBlocksBeingCopiedUpAndTheirCopiesFreeTheirSlotsWhenDone) {
  auto c = Chain(2);
  Put(c, 1);
  AcquireForGpu(c);  // copies in flight, not reaped
  EXPECT_EQ(store_->Evict(nullptr), 2u);
  EXPECT_EQ(store_->indexed_blocks(), 0u);
  EXPECT_EQ(host_->used_bytes(), 0u);
  // Evict waits for nothing: each copy in flight frees its slot as it ends.
  EXPECT_EQ(gpu_->used_bytes(), 2 * kBlockBytes);
  store_->ReapGpu();
  EXPECT_EQ(gpu_->used_bytes(), 0u);
  EXPECT_EQ(store_->counters().gpu_blocks, 0u);
}

}  // namespace
}  // namespace tierkv
