#include "daemon/block_store.h"

#include <gtest/gtest.h>

#include <cstring>

#include "daemon/block_store_fixture.h"

namespace tierkv {
namespace {

class BlockStoreTest : public testing::BlockStoreFixture {};

TEST_F(BlockStoreTest, StoredPrefixIsFound) {
  auto c = Chain(5);
  Put(c);
  EXPECT_EQ(Matched(c), 5u);
  EXPECT_EQ(store_->counters().host_blocks, 5u);
  // A longer prompt with the same start matches the stored prefix only.
  auto longer = Chain(8);
  EXPECT_EQ(Matched(longer), 5u);
  EXPECT_EQ(store_->counters().host.misses, 3u);  // in blocks: 8 asked, 5 found
}

TEST_F(BlockStoreTest, ReservedBlocksAreInvisibleUntilCommit) {
  auto c = Chain(2);
  auto entries = Reserve(c);
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
  auto r = Reserve(c);
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(store_->indexed_blocks(), 0u);
  EXPECT_EQ(host_->used_bytes(), 0u);
}

TEST_F(BlockStoreTest, AlreadyStoredBlocksNeedNoSlot) {
  auto c = Chain(3);
  Put(c);
  auto r = Reserve(Chain(4));
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
  EXPECT_EQ(store_->counters().host.evictions, 1u);
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
  EXPECT_EQ(store_->counters().pinned_blocks, 32u);
  auto r = Reserve(Chain(1, 7777));
  EXPECT_TRUE(r.status().IsResourceExhausted()) << r.status().ToString();
  EXPECT_EQ(Matched(a), 32u);
  store_->Unpin(pinned);
  EXPECT_EQ(store_->counters().pinned_blocks, 0u);
  auto again = Reserve(Chain(1, 7777));
  EXPECT_TRUE(again.ok());
  store_->Abort(*again);
}

TEST_F(BlockStoreTest, FailedReserveLeavesNothingBehind) {
  auto a = Chain(30);
  Put(a);
  store_->Pin(store_->Match(*ns_, a, 30));
  // 2 slots free; a 3-block reserve must fail whole.
  auto r = Reserve(Chain(3, 5000));
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

TEST_F(BlockStoreTest, ChainsStartAtTheRootOrAReadyBlockOfTheirNamespace) {
  auto a = Chain(2);
  Put(a);
  wire::OpenNamespaceRequest other_spec = ns_->spec;
  other_spec.tenant = "other";
  NamespaceInfo* other = *registry_->Open(other_spec, {});
  // Continuing a's last block: from a's namespace yes, from another no.
  wire::BlockChain next;
  next.parent = a.keys.back();
  next.tokens = {1, 2, 3, 4};
  next.keys = ChainBlockKeys(next.parent, next.tokens, kBlockTokens);
  auto refused = store_->Reserve(*other, next, {}, [](Result<BlockStore::Reserved>) {});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status().code(), StatusCode::kInvalidArgument);
  // Rooted at a's namespace id, as another namespace: refused too.
  auto squat = Chain(1, 100);
  refused = store_->Reserve(*other, squat, {}, [](Result<BlockStore::Reserved>) {});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status().code(), StatusCode::kInvalidArgument);
  // A reserved, uncommitted parent is not a stored block either.
  auto pending = Reserve(Chain(1, 200));
  ASSERT_TRUE(pending.ok());
  wire::BlockChain after_pending;
  after_pending.parent = Chain(1, 200).keys[0];
  after_pending.tokens = {5, 6, 7, 8};
  after_pending.keys = ChainBlockKeys(after_pending.parent, after_pending.tokens, kBlockTokens);
  EXPECT_EQ(Reserve(after_pending).status().code(), StatusCode::kInvalidArgument);
  store_->Abort(Slots(*pending));
  auto accepted = Reserve(next);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  store_->Commit(Slots(*accepted));
  EXPECT_EQ(store_->indexed_blocks(), 3u);
}

TEST_F(BlockStoreTest, AReserveLargerThanTheHostTierIsRefusedBeforeEvicting) {
  auto a = Chain(4);
  Put(a);
  auto r = Reserve(Chain(2 * kSlab / kBlockBytes + 1, 1000));
  EXPECT_TRUE(r.status().IsResourceExhausted());
  EXPECT_NE(r.status().message().find("can never fit"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(Matched(a), 4u);
  EXPECT_EQ(store_->counters().host.evictions, 0u);
}

}  // namespace
}  // namespace tierkv
