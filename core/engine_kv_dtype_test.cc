// The engine's KV dtypes (EngineOptions::kv_dtype): each dtype is its own
// namespace with its own block size, warm equals cold in every dtype, and
// greedy tokens of f16 KV equal f32 KV's on the test prompts (q8_0's
// differences are counted and reported, not hidden).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/engine.h"
#include "core/in_process_prefix_cache.h"
#include "core/test_model.h"
#include "kernels/test_util.h"

namespace tierkv::core {
namespace {

using kernels::KvDtype;
using kernels::testing::NormalizedError;

constexpr int kBlockTokens = 4;
constexpr int kNewTokens = 8;
// Warm and cold runs compute the new tokens' K and V in batches of different
// sizes (sgemm blocking differs in the last bit), and a last-bit difference
// can round a value stored in f16 KV pages the other way (one f16 step, 5e-4
// relative): warm logits stay within this of cold ones (1.1e-5 measured).
constexpr double kWarmColdLogitsBound = 1e-4;

std::vector<TokenId> Prompt(int n, uint32_t salt) {
  std::vector<TokenId> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 37 + 11 + salt * 53) % testing::TinyHead32Config().vocab;
  return t;
}

class EngineKvDtypeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::MakeTinyModel(WeightFormat::kF32, 7, testing::TinyHead32Config());
    ASSERT_NE(model_, nullptr);
  }

  EngineOptions Options(KvDtype dtype) const {
    // Every hit is loaded: the tiny model's break-even is beyond its context.
    return {.block_tokens = kBlockTokens, .kv_dtype = dtype, .min_cached_tokens = 0};
  }

  GenerateResult Run(KvDtype dtype, PrefixCache* cache, const std::vector<TokenId>& prompt) {
    Engine engine(*model_, Options(dtype), cache);
    auto r = engine.Generate(prompt, {.max_new_tokens = kNewTokens, .sampling = {}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : GenerateResult{};
  }

  std::unique_ptr<LlamaModel> model_;
};

TEST_F(EngineKvDtypeTest, EachDtypeIsItsOwnNamespaceAndBlockSize) {
  const LlamaConfig& c = model_->config();
  const size_t rows = static_cast<size_t>(c.n_layers) * 2 * kBlockTokens;
  const NamespaceSpec f32 = Engine::NamespaceFor(*model_, Options(KvDtype::kF32));
  const NamespaceSpec f16 = Engine::NamespaceFor(*model_, Options(KvDtype::kF16));
  const NamespaceSpec bf16 = Engine::NamespaceFor(*model_, Options(KvDtype::kBf16));
  const NamespaceSpec q8 = Engine::NamespaceFor(*model_, Options(KvDtype::kQ8_0));
  EXPECT_EQ(f32.block_bytes, rows * c.kv_dim() * 4);
  EXPECT_EQ(f16.block_bytes, rows * c.kv_dim() * 2);
  EXPECT_EQ(bf16.block_bytes, f16.block_bytes);
  EXPECT_EQ(q8.block_bytes, rows * c.kv_dim() / 32 * 34);  // 0.27x of f32
  EXPECT_EQ(q8.kv_dtype, "q8_0");
  EXPECT_EQ(Engine::NamespaceFor(*model_, {.block_tokens = kBlockTokens}).kv_dtype, "f16");
  const Key128 ids[] = {LocalNamespaceId(f32), LocalNamespaceId(f16), LocalNamespaceId(bf16),
                        LocalNamespaceId(q8)};
  for (size_t i = 0; i < std::size(ids); ++i) {
    for (size_t j = i + 1; j < std::size(ids); ++j) EXPECT_FALSE(ids[i] == ids[j]) << i << j;
  }
}

TEST_F(EngineKvDtypeTest, Q8_0RefusesHeadsThatAreNotWholeBlocks) {
  auto narrow = testing::MakeTinyModel();  // head_dim 16
  ASSERT_NE(narrow, nullptr);
  EXPECT_TRUE(CheckEngineOptions(*narrow, Options(KvDtype::kQ8_0)).IsInvalidArgument());
  Engine engine(*narrow, Options(KvDtype::kQ8_0), nullptr);
  auto r = engine.Generate(Prompt(5, 1), {.max_new_tokens = 1, .sampling = {}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("multiple of 32"), std::string::npos);
  EXPECT_TRUE(CheckEngineOptions(*narrow, Options(KvDtype::kF16)).ok());
}

TEST_F(EngineKvDtypeTest, WarmEqualsColdInEveryDtype) {
  for (KvDtype dtype : kernels::kAllKvDtypes) {
    SCOPED_TRACE(std::string(kernels::KvDtypeName(dtype)));
    InProcessPrefixCache cache(Engine::NamespaceFor(*model_, Options(dtype)));
    const std::vector<TokenId> prompt = Prompt(22, 2);
    const GenerateResult cold = Run(dtype, nullptr, prompt);
    Run(dtype, &cache, prompt);
    const GenerateResult warm = Run(dtype, &cache, prompt);
    EXPECT_EQ(warm.cached_tokens, 20);
    EXPECT_EQ(warm.tokens, cold.tokens);
    EXPECT_LT(NormalizedError(warm.first_logits, cold.first_logits), kWarmColdLogitsBound);
  }
}

// f16 KV gives f32 KV's greedy tokens on every test prompt; bf16 and q8_0
// keep the first logits close, and where their tokens differ the test says
// so in its output (RecordProperty) rather than failing: a coarser KV may
// flip a near tie.
TEST_F(EngineKvDtypeTest, F16GreedyTokensEqualF32) {
  constexpr double kF16LogitsBound = 1e-2;
  constexpr double kBf16LogitsBound = 5e-2;
  constexpr double kQ8_0LogitsBound = 5e-2;
  int differing[3] = {0, 0, 0};
  const KvDtype others[] = {KvDtype::kF16, KvDtype::kBf16, KvDtype::kQ8_0};
  const double bounds[] = {kF16LogitsBound, kBf16LogitsBound, kQ8_0LogitsBound};
  for (uint32_t salt = 0; salt < 6; ++salt) {
    const std::vector<TokenId> prompt = Prompt(9 + 7 * salt, salt);
    const GenerateResult f32 = Run(KvDtype::kF32, nullptr, prompt);
    for (int i = 0; i < 3; ++i) {
      SCOPED_TRACE(std::string(kernels::KvDtypeName(others[i])) + " prompt " +
                   std::to_string(salt));
      const GenerateResult r = Run(others[i], nullptr, prompt);
      EXPECT_LT(NormalizedError(r.first_logits, f32.first_logits), bounds[i]);
      if (others[i] == KvDtype::kF16) {
        EXPECT_EQ(r.tokens, f32.tokens);
      }
      if (r.tokens != f32.tokens) ++differing[i];
    }
  }
  RecordProperty("bf16_prompts_differing_of_6", differing[1]);
  RecordProperty("q8_0_prompts_differing_of_6", differing[2]);
  std::printf("greedy tokens differing from f32 KV (of 6 prompts): f16 %d, bf16 %d, q8_0 %d\n",
              differing[0], differing[1], differing[2]);
}

}  // namespace
}  // namespace tierkv::core
