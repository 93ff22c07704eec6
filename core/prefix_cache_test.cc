// LookupCachedPrefix over the reference cache, and PrefixCache's defaults.
#include "core/prefix_cache.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/in_process_prefix_cache.h"

namespace tierkv::core {
namespace {

constexpr int kBlockTokens = 4;
constexpr uint64_t kBlockBytes = 8;

NamespaceSpec Spec() {
  NamespaceSpec spec;
  spec.model_fingerprint = "prefix-cache-test";
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = kBlockBytes;
  return spec;
}

// A cache whose lookups fail, like an unreachable daemon.
class UnreachableCache : public InProcessPrefixCache {
 public:
  UnreachableCache() : InProcessPrefixCache(Spec()) {}
  Result<uint32_t> Lookup(std::span<const Key128>, std::span<const TokenId>) override {
    return Status::Unavailable("daemon gone");
  }
};

// Stores the first `blocks` full blocks of `prompt` in `cache`.
void StoreBlocks(PrefixCache& cache, const std::vector<TokenId>& prompt, size_t blocks) {
  const auto tokens = std::span(prompt).first(blocks * kBlockTokens);
  const std::vector<Key128> keys = ChainBlockKeys(cache.namespace_id(), tokens, kBlockTokens);
  const std::vector<std::byte> payload(kBlockBytes, std::byte{7});
  const std::vector<std::span<const std::byte>> src(blocks, payload);
  ASSERT_TRUE(cache.Store(keys, tokens, src).ok());
}

TEST(LookupCachedPrefixTest, KeysEveryFullBlockAndCountsTheStoredOnes) {
  InProcessPrefixCache cache(Spec());
  const std::vector<TokenId> prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  StoreBlocks(cache, prompt, 2);

  auto prefix = LookupCachedPrefix(cache, prompt, kBlockTokens);
  ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
  EXPECT_EQ(prefix->keys,
            ChainBlockKeys(cache.namespace_id(), std::span(prompt).first(12), kBlockTokens));
  EXPECT_EQ(prefix->tokens.size(), 12u);  // the two trailing tokens are no full block
  EXPECT_EQ(prefix->matched_blocks, 2u);
  EXPECT_EQ(prefix->matched_keys().size(), 2u);
  EXPECT_EQ(prefix->matched_tokens().size(), 8u);
  EXPECT_EQ(prefix->matched_tokens().data(), prompt.data());
}

TEST(LookupCachedPrefixTest, PromptShorterThanABlockAsksNothing) {
  UnreachableCache cache;
  const std::vector<TokenId> prompt = {1, 2, 3};
  auto prefix = LookupCachedPrefix(cache, prompt, kBlockTokens);
  ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
  EXPECT_EQ(prefix->matched_blocks, 0u);
  EXPECT_TRUE(prefix->keys.empty());
}

TEST(LookupCachedPrefixTest, CacheErrorsAndBadBlockSizesAreReturned) {
  UnreachableCache cache;
  const std::vector<TokenId> prompt = {1, 2, 3, 4, 5};
  EXPECT_EQ(LookupCachedPrefix(cache, prompt, kBlockTokens).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(LookupCachedPrefix(cache, prompt, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(PrefixCacheDefaultsTest, CannotLendInPlaceAndHasNoSharedRegion) {
  InProcessPrefixCache cache(Spec());
  const std::vector<TokenId> prompt = {1, 2, 3, 4};
  StoreBlocks(cache, prompt, 1);
  const std::vector<Key128> keys = ChainBlockKeys(cache.namespace_id(), prompt, kBlockTokens);
  EXPECT_EQ(cache.Borrow(keys, prompt, {}).status().code(), StatusCode::kUnsupported);
  EXPECT_TRUE(cache.shared_host_region().empty());
}

}  // namespace
}  // namespace tierkv::core
