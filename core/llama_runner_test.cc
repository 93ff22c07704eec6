#include "core/llama_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/test_model.h"
#include "kernels/test_util.h"

namespace tierkv::core {
namespace {

using kernels::testing::NormalizedError;

// A plain forward pass: contiguous K/V per layer, explicit loops, no kernels,
// no pages. Returns logits of every token, [n][vocab].
std::vector<float> ReferenceForward(const LlamaModel& m, const std::vector<TokenId>& tokens) {
  const LlamaConfig& c = m.config();
  const int n = static_cast<int>(tokens.size());
  const int dim = c.dim, kv_dim = c.kv_dim(), hd = c.head_dim(), ffn = c.ffn_dim;
  auto matvec = [](const Matrix& m, const float* x, int rows, int cols, float* y) {
    const std::vector<float>& w = m.f32;
    for (int r = 0; r < rows; ++r) {
      double acc = 0;
      for (int i = 0; i < cols; ++i)
        acc += static_cast<double>(w[static_cast<size_t>(r) * cols + i]) * x[i];
      y[r] = static_cast<float>(acc);
    }
  };
  auto rmsnorm = [&](const float* x, const std::vector<float>& w, float* y) {
    double ss = 0;
    for (int i = 0; i < dim; ++i) ss += static_cast<double>(x[i]) * x[i];
    const double inv = 1.0 / std::sqrt(ss / dim + c.rms_eps);
    for (int i = 0; i < dim; ++i) y[i] = static_cast<float>(x[i] * inv * w[i]);
  };
  auto rope = [&](float* v, int heads, int pos) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < c.rot_dim / 2; ++i) {
        const double theta =
            pos * std::pow(static_cast<double>(c.rope_freq_base), -2.0 * i / c.rot_dim);
        float* p = v + h * hd + 2 * i;
        const double x0 = p[0], x1 = p[1];
        p[0] = static_cast<float>(x0 * std::cos(theta) - x1 * std::sin(theta));
        p[1] = static_cast<float>(x0 * std::sin(theta) + x1 * std::cos(theta));
      }
    }
  };

  std::vector<std::vector<float>> x(n, std::vector<float>(dim));
  for (int t = 0; t < n; ++t) {
    std::copy_n(&m.token_embd()[static_cast<size_t>(tokens[t]) * dim], dim, x[t].begin());
  }
  std::vector<float> h(dim), q(dim), att(dim), tmp(std::max(dim, ffn)), g(ffn), u(ffn);
  for (const LlamaLayer& L : m.layers()) {
    std::vector<std::vector<float>> K(n, std::vector<float>(kv_dim)), V = K;
    for (int t = 0; t < n; ++t) {
      rmsnorm(x[t].data(), L.attn_norm, h.data());
      matvec(L.wk, h.data(), kv_dim, dim, K[t].data());
      matvec(L.wv, h.data(), kv_dim, dim, V[t].data());
      rope(K[t].data(), c.n_head_kv, t);
    }
    for (int t = 0; t < n; ++t) {
      rmsnorm(x[t].data(), L.attn_norm, h.data());
      matvec(L.wq, h.data(), dim, dim, q.data());
      rope(q.data(), c.n_head, t);
      for (int head = 0; head < c.n_head; ++head) {
        const int kvh = head / (c.n_head / c.n_head_kv);
        std::vector<double> s(t + 1);
        double max = -1e300, sum = 0;
        for (int p = 0; p <= t; ++p) {
          double dot = 0;
          for (int d = 0; d < hd; ++d) dot += q[head * hd + d] * K[p][kvh * hd + d];
          s[p] = dot / std::sqrt(static_cast<double>(hd));
          max = std::max(max, s[p]);
        }
        for (double& e : s) sum += (e = std::exp(e - max));
        for (int d = 0; d < hd; ++d) {
          double acc = 0;
          for (int p = 0; p <= t; ++p) acc += s[p] / sum * V[p][kvh * hd + d];
          att[head * hd + d] = static_cast<float>(acc);
        }
      }
      matvec(L.wo, att.data(), dim, dim, tmp.data());
      for (int i = 0; i < dim; ++i) x[t][i] += tmp[i];
      rmsnorm(x[t].data(), L.ffn_norm, h.data());
      matvec(L.w_gate, h.data(), ffn, dim, g.data());
      matvec(L.w_up, h.data(), ffn, dim, u.data());
      for (int i = 0; i < ffn; ++i)
        g[i] = static_cast<float>(g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i]);
      matvec(L.w_down, g.data(), dim, ffn, tmp.data());
      for (int i = 0; i < dim; ++i) x[t][i] += tmp[i];
    }
  }
  std::vector<float> logits(static_cast<size_t>(n) * c.vocab);
  for (int t = 0; t < n; ++t) {
    rmsnorm(x[t].data(), m.output_norm(), h.data());
    matvec(m.output(), h.data(), c.vocab, dim, &logits[static_cast<size_t>(t) * c.vocab]);
  }
  return logits;
}

std::vector<TokenId> Prompt(int n, uint32_t salt = 0) {
  std::vector<TokenId> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 37 + 11 + salt * 101) % testing::TinyConfig().vocab;
  return t;
}

class LlamaRunnerTest : public ::testing::Test {
 protected:
  static constexpr int kBlockTokens = 4;
  void SetUp() override {
    model_ = testing::MakeTinyModel();
    ASSERT_NE(model_, nullptr);
    const LlamaConfig& c = model_->config();
    pool_ = std::make_unique<PagePool>(
        KvCacheShape{c.n_layers, c.kv_dim(), kBlockTokens, kernels::KvDtype::kF32}, 64);
  }
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<PagePool> pool_;
};

TEST_F(LlamaRunnerTest, PagedPrefillMatchesPlainReference) {
  const std::vector<TokenId> prompt = Prompt(23);
  const std::vector<float> want = ReferenceForward(*model_, prompt);
  LlamaRunner runner(*model_);
  KvSequence seq(pool_.get());
  std::vector<float> logits;
  ASSERT_TRUE(runner.Forward(seq, prompt, LogitsMode::kAll, &logits).ok());
  EXPECT_EQ(seq.n_tokens(), 23);
  EXPECT_EQ(seq.block_table().size(), 6u);
  EXPECT_LT(NormalizedError(logits, want), 1e-4);
}

TEST_F(LlamaRunnerTest, PagedDecodeAndChunkedPrefillMatchReference) {
  const std::vector<TokenId> prompt = Prompt(19, 1);
  const std::vector<float> want = ReferenceForward(*model_, prompt);
  const int vocab = model_->config().vocab;
  LlamaRunner runner(*model_);
  KvSequence seq(pool_.get());
  std::vector<float> logits;
  // 9 tokens of prefill, a 5-token continuation, then token-by-token decode.
  ASSERT_TRUE(runner.Forward(seq, std::span(prompt).first(9), LogitsMode::kLast, &logits).ok());
  EXPECT_LT(NormalizedError(logits, std::span(want).subspan(8 * vocab, vocab)), 1e-4);
  ASSERT_TRUE(runner.Forward(seq, std::span(prompt).subspan(9, 5), LogitsMode::kAll, &logits).ok());
  EXPECT_LT(NormalizedError(logits, std::span(want).subspan(9 * vocab, 5 * vocab)), 1e-4);
  for (int t = 14; t < 19; ++t) {
    ASSERT_TRUE(
        runner.Forward(seq, std::span(prompt).subspan(t, 1), LogitsMode::kLast, &logits).ok());
    EXPECT_LT(NormalizedError(logits, std::span(want).subspan(t * vocab, vocab)), 1e-4) << t;
  }
}

TEST_F(LlamaRunnerTest, F16AndBf16ModelsRunAndDiffer) {
  auto f16 = testing::MakeTinyModel(WeightFormat::kF16);
  auto bf16 = testing::MakeTinyModel(WeightFormat::kBF16);
  ASSERT_NE(f16, nullptr);
  ASSERT_NE(bf16, nullptr);
  const std::vector<TokenId> prompt = Prompt(7);
  for (const LlamaModel* m : {f16.get(), bf16.get()}) {
    LlamaRunner runner(*m);
    KvSequence seq(pool_.get());
    std::vector<float> logits;
    ASSERT_TRUE(runner.Forward(seq, prompt, LogitsMode::kAll, &logits).ok());
    const std::vector<float> want = ReferenceForward(*m, prompt);
    EXPECT_LT(NormalizedError(logits, want), 1e-4);
    // Token by token: the single-row products (f16 weights where kept).
    const int vocab = m->config().vocab;
    KvSequence seq2(pool_.get());
    for (size_t t = 0; t < prompt.size(); ++t) {
      ASSERT_TRUE(
          runner.Forward(seq2, std::span(prompt).subspan(t, 1), LogitsMode::kLast, &logits).ok());
      EXPECT_LT(NormalizedError(logits, std::span(want).subspan(t * vocab, vocab)), 1e-4) << t;
    }
  }
  EXPECT_NE(f16->fingerprint(), bf16->fingerprint());
  EXPECT_NE(f16->layers()[0].wq.f32, bf16->layers()[0].wq.f32);
  EXPECT_FALSE(f16->layers()[0].wq.f16.empty());  // kept for single-token products
  EXPECT_TRUE(bf16->layers()[0].wq.f16.empty());
}

TEST_F(LlamaRunnerTest, RejectsBadInput) {
  LlamaRunner runner(*model_);
  KvSequence seq(pool_.get());
  std::vector<float> logits;
  const TokenId bad[] = {1, 100000};
  EXPECT_TRUE(runner.Forward(seq, bad, LogitsMode::kLast, &logits).IsInvalidArgument());
  EXPECT_TRUE(runner.Forward(seq, {}, LogitsMode::kLast, &logits).IsInvalidArgument());
  PagePool small(pool_->shape(), 2);
  KvSequence seq2(&small);
  EXPECT_TRUE(runner.Forward(seq2, Prompt(9), LogitsMode::kLast, &logits).IsResourceExhausted());
  const std::vector<TokenId> too_long = Prompt(model_->config().context_length + 1);
  EXPECT_TRUE(runner.Forward(seq, too_long, LogitsMode::kLast, &logits).IsInvalidArgument());
}

}  // namespace
}  // namespace tierkv::core
