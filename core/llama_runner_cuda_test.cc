// The CUDA forward pass against the CPU one on the same random model: logits
// of a prefill, of a prefill on top of a cached prefix, and of decode steps,
// and the greedy tokens they choose. Skips without a GPU.
#include "core/llama_runner_cuda.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/kv_cache.h"
#include "core/llama_runner.h"
#include "core/test_model.h"
#include "kernels/cuda_test_util.h"
#include "kernels/test_util.h"

namespace tierkv::core {
namespace {

using kernels::KvDtype;
using kernels::testing::NormalizedError;

constexpr int kBlockTokens = 16;
constexpr int kPages = 32;

std::vector<TokenId> Prompt(int n) {
  std::vector<TokenId> t(n);
  for (int i = 0; i < n; ++i) t[i] = static_cast<TokenId>((i * 37 + 11) % 128);
  return t;
}

TokenId Argmax(const std::vector<float>& logits) {
  return static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Runs `prompt` as `split` then the rest (split == 0: one prefill), then
// `steps` greedy decode steps; returns every logits vector seen and the tokens.
struct Trace {
  std::vector<std::vector<float>> logits;
  std::vector<TokenId> tokens;
};

Trace RunCpu(const LlamaModel& m, const std::vector<TokenId>& prompt, int split, int steps) {
  PagePool pool({m.config().n_layers, m.config().kv_dim(), kBlockTokens}, kPages);
  KvSequence seq(&pool);
  LlamaRunner runner(m);
  Trace t;
  std::vector<float> logits;
  if (split > 0) {
    EXPECT_TRUE(
        runner.Forward(seq, {prompt.data(), size_t(split)}, LogitsMode::kAll, &logits).ok());
    t.logits.push_back(logits);
  }
  EXPECT_TRUE(
      runner.Forward(seq, {prompt.data() + split, prompt.size() - split}, LogitsMode::kAll, &logits)
          .ok());
  t.logits.push_back(logits);
  std::vector<float> last(logits.end() - m.config().vocab, logits.end());
  for (int s = 0; s < steps; ++s) {
    const TokenId next = Argmax(last);
    t.tokens.push_back(next);
    EXPECT_TRUE(runner.Forward(seq, {&next, 1}, LogitsMode::kLast, &last).ok());
    t.logits.push_back(last);
  }
  return t;
}

Trace RunGpu(const LlamaModel& m, KvDtype dtype, const std::vector<TokenId>& prompt, int split,
             int steps) {
  Trace t;
  auto runner = CudaLlamaRunner::Create(m);
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  auto pool =
      CudaPagePool::Create(m.config().n_layers, m.config().kv_dim(), kBlockTokens, dtype, kPages);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  if (!runner.ok() || !pool.ok()) return t;
  CudaKvSequence seq(pool->get());
  std::vector<float> logits;
  if (split > 0) {
    EXPECT_TRUE(
        (*runner)->Forward(seq, {prompt.data(), size_t(split)}, LogitsMode::kAll, &logits).ok());
    t.logits.push_back(logits);
  }
  const Status s = (*runner)->Forward(seq, {prompt.data() + split, prompt.size() - split},
                                      LogitsMode::kAll, &logits);
  EXPECT_TRUE(s.ok()) << s.ToString();
  t.logits.push_back(logits);
  std::vector<float> last(logits.end() - m.config().vocab, logits.end());
  for (int i = 0; i < steps; ++i) {
    const TokenId next = Argmax(last);
    t.tokens.push_back(next);
    EXPECT_TRUE((*runner)->Forward(seq, {&next, 1}, LogitsMode::kLast, &last).ok());
    t.logits.push_back(last);
  }
  return t;
}

void ExpectClose(const Trace& gpu, const Trace& cpu, double bound) {
  ASSERT_EQ(gpu.logits.size(), cpu.logits.size());
  for (size_t i = 0; i < cpu.logits.size(); ++i) {
    EXPECT_LT(NormalizedError(gpu.logits[i], cpu.logits[i]), bound) << "forward " << i;
  }
  EXPECT_EQ(gpu.tokens, cpu.tokens);
}

TEST(CudaLlamaRunnerTest, ColdAndWarmMatchTheCpuRunner) {
  TIERKV_SKIP_WITHOUT_GPU();
  auto model = testing::MakeTinyModel(WeightFormat::kF32, 3, testing::TinyHead32Config());
  ASSERT_NE(model, nullptr);
  const std::vector<TokenId> prompt = Prompt(53);
  // Cold: one prefill. Warm: 32 tokens (two whole blocks, as a cached prefix
  // would be) and then the rest on top of them.
  for (int split : {0, 32}) {
    SCOPED_TRACE(split);
    const Trace cpu = RunCpu(*model, prompt, split, 12);
    // f32 pages: only summation order differs.
    ExpectClose(RunGpu(*model, KvDtype::kF32, prompt, split, 12), cpu, 1e-4);
  }
}

TEST(CudaLlamaRunnerTest, HalfPrecisionPagesStayClose) {
  TIERKV_SKIP_WITHOUT_GPU();
  auto model = testing::MakeTinyModel(WeightFormat::kF32, 4, testing::TinyHead32Config());
  ASSERT_NE(model, nullptr);
  const Trace cpu = RunCpu(*model, Prompt(40), 0, 0);
  // f16 keeps 11 significant bits of every K and V value, bf16 8.
  EXPECT_LT(NormalizedError(RunGpu(*model, KvDtype::kF16, Prompt(40), 0, 0).logits.at(0),
                            cpu.logits.at(0)),
            5e-3);
  EXPECT_LT(NormalizedError(RunGpu(*model, KvDtype::kBf16, Prompt(40), 0, 0).logits.at(0),
                            cpu.logits.at(0)),
            3e-2);
}

TEST(CudaLlamaRunnerTest, UnsupportedHeadSizeIsInvalidArgument) {
  // TinyConfig's head_dim of 16 is below the kernels' 32-wide tiles; the check
  // comes before any CUDA call, so this holds with or without a GPU.
  auto model = testing::MakeTinyModel();
  ASSERT_NE(model, nullptr);
  auto runner = CudaLlamaRunner::Create(*model);
  ASSERT_FALSE(runner.ok());
  EXPECT_TRUE(runner.status().IsInvalidArgument()) << runner.status().ToString();
}

}  // namespace
}  // namespace tierkv::core
