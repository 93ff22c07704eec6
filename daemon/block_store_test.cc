#include "block_store.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tierkv {
namespace {

constexpr uint32_t kBlockTokens = 4;
constexpr uint64_t kBlockBytes = 64 * 1024;
constexpr uint64_t kSlab = 1 << 20;  // 16 blocks per slab

class BlockStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeStore(2 * kSlab); }

  void MakeStore(uint64_t pool_bytes) {
    store_.reset();
    host_ = std::move(HostTier::Create(pool_bytes, kSlab)).value();
    registry_ = std::make_unique<NamespaceRegistry>("secret", std::map<std::string, std::string>{},
                                                    kSlab);
    wire::OpenNamespaceRequest spec;
    spec.model_fingerprint = "m";
    spec.tenant = "default";
    spec.kv_dtype = "f16";
    spec.block_tokens = kBlockTokens;
    spec.block_bytes = kBlockBytes;
    ns_ = *registry_->Open(spec, {});
    store_ = std::make_unique<BlockStore>(host_.get());
  }

  // A chain of `blocks` blocks whose tokens start at `first_token`.
  wire::BlockChain Chain(size_t blocks, TokenId first_token = 0) {
    wire::BlockChain c;
    c.parent = ns_->id;
    for (size_t i = 0; i < blocks * kBlockTokens; ++i) c.tokens.push_back(first_token + i);
    c.keys = ChainBlockKeys(ns_->id, c.tokens, kBlockTokens);
    return c;
  }

  // Stores a chain, filling each payload with its block index + fill.
  void Put(const wire::BlockChain& c, uint8_t fill = 0) {
    auto entries = store_->Reserve(*ns_, c);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    std::vector<BlockEntry*> reserved;
    for (size_t i = 0; i < entries->size(); ++i) {
      if (BlockEntry* e = (*entries)[i]) {
        std::memset(host_->At(e->host_slot.offset), static_cast<int>(i + fill), kBlockBytes);
        reserved.push_back(e);
      }
    }
    store_->Commit(reserved);
  }

  size_t Matched(const wire::BlockChain& c) {
    return store_->Match(*ns_, c, static_cast<uint32_t>(c.keys.size())).size();
  }

  std::unique_ptr<HostTier> host_;
  std::unique_ptr<NamespaceRegistry> registry_;
  NamespaceInfo* ns_ = nullptr;
  std::unique_ptr<BlockStore> store_;
};

TEST_F(BlockStoreTest, StoredPrefixIsFound) {
  auto c = Chain(5);
  Put(c);
  EXPECT_EQ(Matched(c), 5u);
  EXPECT_EQ(store_->host_blocks(), 5u);
  // A longer prompt with the same start matches the stored prefix only.
  auto longer = Chain(8);
  EXPECT_EQ(Matched(longer), 5u);
  EXPECT_EQ(store_->host_counters().misses, 3u);  // in blocks: 8 asked, 5 found
}

TEST_F(BlockStoreTest, ReservedBlocksAreInvisibleUntilCommit) {
  auto c = Chain(2);
  auto entries = store_->Reserve(*ns_, c);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(Matched(c), 0u);
  store_->Commit(*entries);
  EXPECT_EQ(Matched(c), 2u);
}

TEST_F(BlockStoreTest, CollidingKeyWithOtherTokensIsAMiss) {
  auto c = Chain(1);
  Put(c);
  // A lookup that presents the stored key with other tokens: a hash collision
  // as the daemon sees it. It must not be served.
  auto forged = c;
  forged.tokens[0] += 1;
  EXPECT_EQ(Matched(forged), 0u);
  auto wrong_parent = c;
  wrong_parent.parent = Key128{1, 1};
  EXPECT_EQ(Matched(wrong_parent), 0u);
}

TEST_F(BlockStoreTest, ReserveRejectsKeysThatAreNotTheirHash) {
  auto c = Chain(3);
  c.keys[1].lo ^= 1;
  auto r = store_->Reserve(*ns_, c);
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(store_->indexed_blocks(), 0u);
  EXPECT_EQ(host_->used_bytes(), 0u);
}

TEST_F(BlockStoreTest, AlreadyStoredBlocksNeedNoSlot) {
  auto c = Chain(3);
  Put(c);
  auto r = store_->Reserve(*ns_, Chain(4));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0], nullptr);
  EXPECT_EQ((*r)[2], nullptr);
  EXPECT_NE((*r)[3], nullptr);
  store_->Abort({&(*r)[3], 1});
}

TEST_F(BlockStoreTest, EvictsTheTailOfAPrefixFirst) {
  // The pool holds 32 blocks. Store a 32-block prompt, then one more block
  // of another prompt: the first prompt's last block must go, not its head.
  auto a = Chain(32);
  Put(a);
  Put(Chain(1, 100000));
  EXPECT_EQ(store_->host_counters().evictions, 1u);
  EXPECT_EQ(Matched(a), 31u);
}

TEST_F(BlockStoreTest, LookupTouchKeepsHotPrefixes) {
  auto a = Chain(16, 0);
  auto b = Chain(16, 50000);
  Put(a);
  Put(b);
  EXPECT_EQ(Matched(a), 16u);  // a is now more recent than b
  Put(Chain(4, 90000));
  EXPECT_EQ(Matched(a), 16u);
  EXPECT_EQ(Matched(b), 12u);  // b's tail went
}

TEST_F(BlockStoreTest, PinnedBlocksAreNeverEvicted) {
  auto a = Chain(32);
  Put(a);
  auto pinned = store_->Match(*ns_, a, 32);
  store_->Pin(pinned);
  EXPECT_EQ(store_->pinned_blocks(), 32u);
  auto r = store_->Reserve(*ns_, Chain(1, 7777));
  EXPECT_TRUE(r.status().IsResourceExhausted()) << r.status().ToString();
  EXPECT_EQ(Matched(a), 32u);
  store_->Unpin(pinned);
  EXPECT_EQ(store_->pinned_blocks(), 0u);
  auto again = store_->Reserve(*ns_, Chain(1, 7777));
  EXPECT_TRUE(again.ok());
  store_->Abort(*again);
}

TEST_F(BlockStoreTest, FailedReserveLeavesNothingBehind) {
  auto a = Chain(30);
  Put(a);
  store_->Pin(store_->Match(*ns_, a, 30));
  // 2 slots free; a 3-block reserve must fail whole.
  auto r = store_->Reserve(*ns_, Chain(3, 5000));
  EXPECT_TRUE(r.status().IsResourceExhausted());
  EXPECT_EQ(store_->indexed_blocks(), 30u);
  EXPECT_EQ(host_->used_bytes(), 30 * kBlockBytes);
}

TEST_F(BlockStoreTest, EvictNamespaceSparesPinned) {
  auto a = Chain(4);
  Put(a);
  auto pinned = store_->Match(*ns_, a, 1);
  store_->Pin(pinned);
  EXPECT_EQ(store_->Evict(&ns_->id), 3u);
  EXPECT_EQ(Matched(a), 1u);
  store_->Unpin(pinned);
  EXPECT_EQ(store_->Evict(nullptr), 1u);
  EXPECT_EQ(host_->used_bytes(), 0u);
}

}  // namespace
}  // namespace tierkv
