#include "core/engine.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/in_process_prefix_cache.h"
#include "core/test_model.h"
#include "kernels/test_util.h"

namespace tierkv::core {
namespace {

using kernels::testing::NormalizedError;

constexpr int kBlockTokens = 4;
// Every hit is loaded: these tests check the hit path on a model far too small
// for a hit to pay for itself (its break-even is beyond its context).
constexpr EngineOptions kEveryHit{.block_tokens = kBlockTokens, .min_cached_tokens = 0};
// Warm and cold runs compute the new tokens' K and V in batches of different
// sizes (sgemm blocking differs in the last bit), and a last-bit difference
// can round a value stored in f16 KV pages the other way (one f16 step, 5e-4
// relative): warm logits stay within this of cold ones (1.1e-5 measured).
constexpr double kWarmColdLogitsBound = 1e-4;

std::vector<TokenId> Prompt(int n, uint32_t salt = 0) {
  std::vector<TokenId> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 29 + 5 + salt * 71) % testing::TinyConfig().vocab;
  return t;
}

// A cache that fails every call, like an unreachable daemon.
class BrokenCache : public PrefixCache {
 public:
  Key128 namespace_id() const override { return {1, 2}; }
  Result<uint32_t> Lookup(std::span<const Key128>, std::span<const TokenId>) override {
    return Status::Unavailable("daemon gone");
  }
  Result<uint32_t> Load(std::span<const Key128>, std::span<const TokenId>,
                        std::span<const std::span<std::byte>>) override {
    return Status::Unavailable("daemon gone");
  }
  Status Store(std::span<const Key128>, std::span<const TokenId>,
               std::span<const std::span<const std::byte>>) override {
    return Status::Unavailable("daemon gone");
  }
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::MakeTinyModel();
    ASSERT_NE(model_, nullptr);
    cache_ = std::make_unique<InProcessPrefixCache>(
        Engine::NamespaceFor(*model_, {.block_tokens = kBlockTokens}));
  }

  GenerateResult Run(PrefixCache* cache, const std::vector<TokenId>& prompt, int new_tokens = 6) {
    return Run(cache, prompt, kEveryHit, new_tokens);
  }
  GenerateResult Run(PrefixCache* cache, const std::vector<TokenId>& prompt,
                     const EngineOptions& options, int new_tokens = 6) {
    Engine engine(*model_, options, cache);
    auto r = engine.Generate(prompt, {.max_new_tokens = new_tokens, .sampling = {}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : GenerateResult{};
  }

  // Cold (no cache), then through the cache twice: the second run is warm.
  void ExpectWarmEqualsCold(const std::vector<TokenId>& prompt, int expect_cached) {
    const GenerateResult cold = Run(nullptr, prompt);
    EXPECT_EQ(cold.cached_tokens, 0);
    const GenerateResult warm = Run(cache_.get(), prompt);
    EXPECT_EQ(warm.cached_tokens, expect_cached) << "prompt of " << prompt.size();
    EXPECT_EQ(warm.prefill_tokens, static_cast<int>(prompt.size()) - expect_cached);
    EXPECT_EQ(warm.tokens, cold.tokens);
    EXPECT_LT(NormalizedError(warm.first_logits, cold.first_logits), kWarmColdLogitsBound);
  }

  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<InProcessPrefixCache> cache_;
};

TEST_F(EngineTest, WarmEqualsColdOnAndOffBlockBoundary) {
  for (int len : {16, 18, 23, 5}) {
    cache_->Clear();
    const std::vector<TokenId> prompt = Prompt(len, len);
    const GenerateResult first = Run(cache_.get(), prompt);
    EXPECT_EQ(first.cached_tokens, 0);
    // The last prompt token is always computed, even when its block is cached.
    ExpectWarmEqualsCold(prompt, std::min(len / kBlockTokens * kBlockTokens, len - 1));
  }
}

TEST_F(EngineTest, WarmEqualsColdWithF16Weights) {
  // The last token of a fully cached prompt runs through the f16 single-row
  // path, the cold prefill through f32 sgemm: same model, same answer.
  model_ = testing::MakeTinyModel(WeightFormat::kF16);
  ASSERT_NE(model_, nullptr);
  cache_ = std::make_unique<InProcessPrefixCache>(
      Engine::NamespaceFor(*model_, {.block_tokens = kBlockTokens}));
  const std::vector<TokenId> prompt = Prompt(20, 6);
  Run(cache_.get(), prompt);
  ExpectWarmEqualsCold(prompt, 19);
}

TEST_F(EngineTest, PartialPrefixHit) {
  const std::vector<TokenId> a = Prompt(20, 1);
  Run(cache_.get(), a, 1);
  std::vector<TokenId> b = a;
  b[9] = (b[9] + 1) % testing::TinyConfig().vocab;  // differs inside block 2
  ExpectWarmEqualsCold(b, 2 * kBlockTokens);
}

TEST_F(EngineTest, EvictedBlockEndsThePrefix) {
  const std::vector<TokenId> prompt = Prompt(21, 2);
  Run(cache_.get(), prompt, 1);
  const auto keys = ChainBlockKeys(cache_->namespace_id(), prompt, kBlockTokens);
  cache_->Erase(keys[3]);
  ExpectWarmEqualsCold(prompt, 3 * kBlockTokens);
}

TEST_F(EngineTest, DecodedBlocksAreStoredForTheNextTurn) {
  const std::vector<TokenId> prompt = Prompt(10, 3);
  const GenerateResult turn1 = Run(cache_.get(), prompt, 12);
  ASSERT_EQ(turn1.tokens.size(), 12u);
  // 10 prompt + 11 fed generated tokens = 21 positions: 5 full blocks.
  EXPECT_EQ(cache_->blocks(), 5u);
  EXPECT_EQ(turn1.stored_blocks, 5);
  std::vector<TokenId> turn2 = prompt;
  turn2.insert(turn2.end(), turn1.tokens.begin(), turn1.tokens.end());
  turn2.push_back(7);
  ExpectWarmEqualsCold(turn2, 20);
}

// Counts lookups and loads: whether the engine asked for a prefix and took it.
class CountingCache : public InProcessPrefixCache {
 public:
  using InProcessPrefixCache::InProcessPrefixCache;
  Result<uint32_t> Lookup(std::span<const Key128> keys, std::span<const TokenId> tokens) override {
    ++lookups;
    return InProcessPrefixCache::Lookup(keys, tokens);
  }
  Result<uint32_t> Load(std::span<const Key128> keys, std::span<const TokenId> tokens,
                        std::span<const std::span<std::byte>> dst) override {
    ++loads;
    return InProcessPrefixCache::Load(keys, tokens, dst);
  }
  int lookups = 0;
  int loads = 0;
};

TEST_F(EngineTest, HitBelowMinCachedTokensIsRecomputed) {
  CountingCache cache(Engine::NamespaceFor(*model_, kEveryHit));
  const EngineOptions three_blocks{.block_tokens = kBlockTokens,
                                   .min_cached_tokens = 3 * kBlockTokens};
  const std::vector<TokenId> stored = Prompt(17, 8);
  Run(&cache, stored, 1);  // stores 4 blocks
  const GenerateResult cold = Run(nullptr, stored, three_blocks);

  // A prompt of 2 full blocks is not even looked up, though both are stored.
  cache.lookups = 0;
  const std::vector<TokenId> short_prompt(stored.begin(), stored.begin() + 10);
  GenerateResult r = Run(&cache, short_prompt, three_blocks);
  EXPECT_EQ(cache.lookups, 0);
  EXPECT_EQ(r.cached_tokens, 0);
  EXPECT_EQ(r.tokens, Run(nullptr, short_prompt).tokens);

  // A 2-block hit in a longer prompt is found, skipped, and recomputed.
  std::vector<TokenId> parted = stored;
  parted[9] = (parted[9] + 1) % testing::TinyConfig().vocab;  // differs inside block 3
  r = Run(&cache, parted, three_blocks);
  EXPECT_EQ(cache.lookups, 1);
  EXPECT_EQ(cache.loads, 0);
  EXPECT_EQ(r.cached_tokens, 0);
  EXPECT_EQ(r.skipped_cached_tokens, 2 * kBlockTokens);
  EXPECT_EQ(r.prefill_tokens, 17);
  EXPECT_EQ(r.tokens, Run(nullptr, parted).tokens);

  // A hit of 4 blocks reaches the threshold and is loaded.
  r = Run(&cache, stored, three_blocks);
  EXPECT_EQ(cache.loads, 1);
  EXPECT_EQ(r.cached_tokens, 4 * kBlockTokens);
  EXPECT_EQ(r.skipped_cached_tokens, 0);
  EXPECT_EQ(r.tokens, cold.tokens);
}

TEST_F(EngineTest, AutoBreakEvenOnATinyModelRecomputesShortHitsAndLoadsLongOnes) {
  // On the tiny model a block saves only its prefill floor (a few us per token
  // and layer) against a lease's fixed cost: a hit of a few blocks is
  // recomputed, a longer one is loaded.
  const EngineOptions automatic{.block_tokens = kBlockTokens};
  const int threshold = Engine::MinCachedTokensFor(*model_, automatic);
  EXPECT_GT(threshold, 4 * kBlockTokens);
  EXPECT_LT(threshold, testing::TinyConfig().context_length / 2);
  EXPECT_EQ(threshold % kBlockTokens, 0);
  CountingCache cache(Engine::NamespaceFor(*model_, automatic));

  // A prompt whose full blocks stay below it is not even looked up.
  const std::vector<TokenId> short_prompt = Prompt(17, 9);
  Run(&cache, short_prompt, 1);
  cache.lookups = 0;
  GenerateResult r = Run(&cache, short_prompt, automatic);
  EXPECT_EQ(cache.lookups, 0);
  EXPECT_EQ(r.cached_tokens, 0);
  EXPECT_EQ(r.prefill_tokens, 17);

  // A prompt cached two blocks beyond it is loaded, and decodes as cold.
  const std::vector<TokenId> long_prompt = Prompt(threshold + 2 * kBlockTokens + 1, 10);
  const GenerateResult cold = Run(nullptr, long_prompt, automatic);
  Run(&cache, long_prompt, 1);
  cache.loads = 0;
  r = Run(&cache, long_prompt, automatic);
  EXPECT_EQ(cache.loads, 1);
  EXPECT_EQ(r.cached_tokens, threshold + 2 * kBlockTokens);
  EXPECT_EQ(r.skipped_cached_tokens, 0);
  EXPECT_EQ(r.tokens, cold.tokens);

  // The 8-layer 1024-wide model of docs/performance.md: one block of 16
  // tokens pays in every KV dtype, so every hit is used there.
  const LlamaConfig eight{.n_layers = 8,
                          .dim = 1024,
                          .n_head = 16,
                          .n_head_kv = 4,
                          .ffn_dim = 2816,
                          .vocab = 32000,
                          .context_length = 8192,
                          .rot_dim = 64};
  for (kernels::KvDtype dtype :
       {kernels::KvDtype::kF32, kernels::KvDtype::kF16, kernels::KvDtype::kQ8_0}) {
    const size_t block_bytes = 8 * 2 * 16 * kernels::KvRowBytes(dtype, eight.kv_dim());
    EXPECT_EQ(BreakEvenCachedTokens(eight, block_bytes, 16, kCpuPrefixHitCosts), 16)
        << kernels::KvDtypeName(dtype);
  }
  // A block that costs more to load than to compute never pays.
  EXPECT_EQ(BreakEvenCachedTokens(testing::TinyConfig(), size_t{1} << 30, kBlockTokens,
                                  kCpuPrefixHitCosts),
            kHitNeverPays);
  EXPECT_TRUE(CheckEngineOptions(*model_, {.min_cached_tokens = -2}).IsInvalidArgument());
}

// Records how many blocks each Store() call carried.
class StoreRecordingCache : public InProcessPrefixCache {
 public:
  using InProcessPrefixCache::InProcessPrefixCache;
  Status Store(std::span<const Key128> keys, std::span<const TokenId> tokens,
               std::span<const std::span<const std::byte>> src) override {
    stores.push_back(keys.size());
    return InProcessPrefixCache::Store(keys, tokens, src);
  }
  std::vector<size_t> stores;
};

TEST_F(EngineTest, EachBlockIsStoredAsDecodingFillsIt) {
  StoreRecordingCache cache(Engine::NamespaceFor(*model_, {.block_tokens = kBlockTokens}));
  const GenerateResult r = Run(&cache, Prompt(10, 4), 12);
  // The prompt's 2 full blocks after the prefill, then one store per block
  // decoding completes (positions 12, 16 and 20), not one at the end.
  EXPECT_EQ(cache.stores, (std::vector<size_t>{2, 3, 4, 5}));
  EXPECT_EQ(r.stored_blocks, 5);
}

TEST_F(EngineTest, BrokenCacheFallsBackToCold) {
  BrokenCache broken;
  const std::vector<TokenId> prompt = Prompt(17, 4);
  const GenerateResult cold = Run(nullptr, prompt);
  const GenerateResult r = Run(&broken, prompt);
  EXPECT_EQ(r.cached_tokens, 0);
  EXPECT_EQ(r.tokens, cold.tokens);
}

TEST_F(EngineTest, OtherModelMissesTheCache) {
  const std::vector<TokenId> prompt = Prompt(17, 5);
  Run(cache_.get(), prompt, 1);
  auto other = testing::MakeTinyModel(WeightFormat::kF32, /*seed=*/2);
  const NamespaceSpec spec = Engine::NamespaceFor(*other, {.block_tokens = kBlockTokens});
  EXPECT_NE(spec.model_fingerprint,
            Engine::NamespaceFor(*model_, {.block_tokens = kBlockTokens}).model_fingerprint);
  EXPECT_FALSE(LocalNamespaceId(spec) == cache_->namespace_id());
}

TEST_F(EngineTest, SamplingIsSeeded) {
  Engine engine(*model_, kEveryHit, nullptr);
  const GenerateOptions o{.max_new_tokens = 8,
                          .sampling = {.temperature = 1.5f, .top_p = 0.9f, .seed = 3}};
  auto a = engine.Generate(Prompt(9), o);
  auto b = engine.Generate(Prompt(9), o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tokens, b->tokens);
  EXPECT_FALSE(engine.Generate({}, o).ok());
}

}  // namespace
}  // namespace tierkv::core
