#include "daemon/block_index.h"

#include <gtest/gtest.h>

#include <vector>

namespace tierkv {
namespace {

constexpr uint32_t kBlockTokens = 4;
constexpr uint64_t kBlockBytes = 4096;
const Key128 kNs{7, 7};
const Key128 kOtherNs{8, 8};

wire::BlockChain Chain(size_t blocks, TokenId first_token = 0, Key128 ns = kNs) {
  wire::BlockChain c;
  c.parent = ns;
  for (size_t i = 0; i < blocks * kBlockTokens; ++i) c.tokens.push_back(first_token + i);
  c.keys = ChainBlockKeys(ns, c.tokens, kBlockTokens);
  return c;
}

class BlockIndexTest : public ::testing::Test {
 protected:
  // Indexes every block of the chain as ready, as a commit leaves it.
  void Store(const wire::BlockChain& c, Key128 ns = kNs) {
    Key128 parent = c.parent;
    for (size_t i = 0; i < c.keys.size(); ++i) {
      BlockEntry* e = index_.Insert(c.keys[i], parent, ns,
                                    std::span(c.tokens).subspan(i * kBlockTokens, kBlockTokens),
                                    kBlockBytes);
      ASSERT_NE(e, nullptr);
      e->residency.Commit();
      parent = c.keys[i];
    }
  }
  size_t Matched(const wire::BlockChain& c, size_t max_blocks = ~size_t{0}, Key128 ns = kNs) {
    std::vector<BlockEntry*> out;
    index_.MatchPrefix(ns, kBlockTokens, c, max_blocks, &out);
    return out.size();
  }

  BlockIndex index_;
};

TEST_F(BlockIndexTest, InsertKeepsTheIdentityAndRefusesADuplicateKey) {
  auto c = Chain(1);
  BlockEntry* e = index_.Insert(c.keys[0], c.parent, kNs, c.tokens, kBlockBytes);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->key, c.keys[0]);
  EXPECT_EQ(e->parent, kNs);
  EXPECT_EQ(e->bytes, kBlockBytes);
  EXPECT_TRUE(std::ranges::equal(e->tokens(), c.tokens));
  EXPECT_EQ(index_.Insert(c.keys[0], c.parent, kNs, c.tokens, kBlockBytes), nullptr);
  EXPECT_EQ(index_.Find(c.keys[0]), e);
  EXPECT_EQ(index_.size(), 1u);
  index_.Erase(e);
  EXPECT_EQ(index_.Find(c.keys[0]), nullptr);
  EXPECT_FALSE(index_.Contains(c.keys[0]));
}

TEST_F(BlockIndexTest, MatchesTheLongestStoredPrefixUpToTheLimit) {
  Store(Chain(5));
  EXPECT_EQ(Matched(Chain(8)), 5u);
  EXPECT_EQ(Matched(Chain(8), 3), 3u);
  EXPECT_EQ(Matched(Chain(3, 1000)), 0u);
}

TEST_F(BlockIndexTest, ReservedBlocksDoNotMatch) {
  auto c = Chain(2);
  Store(Chain(1));
  BlockEntry* reserved = index_.Insert(c.keys[1], c.keys[0], kNs,
                                       std::span(c.tokens).subspan(kBlockTokens), kBlockBytes);
  ASSERT_NE(reserved, nullptr);
  EXPECT_FALSE(reserved->residency.ready());
  EXPECT_EQ(Matched(c), 1u);
}

TEST_F(BlockIndexTest, AKeyPresentedWithOtherTokensParentOrNamespaceIsAMiss) {
  auto c = Chain(2);
  Store(c);
  auto other_tokens = c;
  other_tokens.tokens[kBlockTokens] += 1;  // block 1's tokens, key unchanged
  EXPECT_EQ(Matched(other_tokens), 1u);
  auto other_parent = c;
  other_parent.parent = Key128{1, 1};
  EXPECT_EQ(Matched(other_parent), 0u);
  EXPECT_EQ(Matched(c, ~size_t{0}, kOtherNs), 0u);
}

TEST_F(BlockIndexTest, CheckChainRefusesKeysThatAreNotTheHashOfParentAndTokens) {
  EXPECT_TRUE(BlockIndex::CheckChain(Chain(3), kBlockTokens).ok());
  auto forged = Chain(3);
  forged.keys[1].lo ^= 1;
  Status s = BlockIndex::CheckChain(forged, kBlockTokens);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("block 1"), std::string::npos) << s.ToString();
  auto short_tokens = Chain(3);
  short_tokens.tokens.pop_back();
  EXPECT_TRUE(BlockIndex::CheckChain(short_tokens, kBlockTokens).IsInvalidArgument());
}

TEST_F(BlockIndexTest, ForEachVisitsEveryEntryOnce) {
  Store(Chain(3));
  Store(Chain(2, 500));
  size_t visited = 0;
  index_.ForEach([&](BlockEntry*) { ++visited; });
  EXPECT_EQ(visited, 5u);
}

}  // namespace
}  // namespace tierkv
