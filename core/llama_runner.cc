#include "core/llama_runner.h"

#include <cmath>
#include <cstring>
#include <string>

#include "kernels/kv_cache_write_ref.h"
#include "kernels/matmul_ref.h"
#include "kernels/matvec_f16_ref.h"
#include "kernels/paged_attention_ref.h"
#include "kernels/quant_matmul.h"
#include "kernels/rmsnorm_ref.h"
#include "kernels/rope_ref.h"
#include "kernels/swiglu_ref.h"

namespace tierkv::core {
namespace {

void Fit(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// y[m][w.rows] (+)= x[m][w.cols] . w^T. One row with f16 weights at hand
// reads them as f16: that product is bound by streaming the weights.
void Project(const float* x, const Matrix& w, float* y, int m, bool accumulate) {
  if (w.quantized()) {
    kernels::QuantMatMul(w.quant_weights(), x, w.cols, y, w.rows, m, accumulate);
  } else if (m == 1 && !w.f16.empty()) {
    kernels::MatVecF16Ref(w.f16.data(), x, y, w.rows, w.cols, accumulate);
  } else {
    kernels::MatMulRef(x, w.cols, w.f32.data(), y, w.rows, m, w.rows, w.cols, accumulate);
  }
}

}  // namespace

Status CheckForwardTokens(const LlamaConfig& c, int n_past, std::span<const TokenId> tokens) {
  const int n = static_cast<int>(tokens.size());
  if (n == 0) return Status::InvalidArgument("forward needs at least one token");
  if (n_past + n > c.context_length) {
    return Status::InvalidArgument("sequence of " + std::to_string(n_past + n) +
                                   " tokens exceeds the model's context of " +
                                   std::to_string(c.context_length));
  }
  for (TokenId t : tokens) {
    if (t >= static_cast<TokenId>(c.vocab)) {
      return Status::InvalidArgument("token " + std::to_string(t) +
                                     " is outside the vocabulary of " + std::to_string(c.vocab));
    }
  }
  return Status::Ok();
}

Status LlamaRunner::Forward(KvSequence& seq, std::span<const TokenId> tokens, LogitsMode mode,
                            std::vector<float>* logits) {
  const LlamaConfig& c = model_.config();
  const int n = static_cast<int>(tokens.size());
  const int n_past = seq.n_tokens();
  TIERKV_RETURN_IF_ERROR(CheckForwardTokens(c, n_past, tokens));
  TIERKV_RETURN_IF_ERROR(seq.Reserve(n_past + n));

  const int dim = c.dim, kv_dim = c.kv_dim(), ffn = c.ffn_dim, hd = c.head_dim();
  Fit(x_, static_cast<size_t>(n) * dim);
  Fit(h_, static_cast<size_t>(n) * dim);
  Fit(q_, static_cast<size_t>(n) * dim);
  Fit(att_, static_cast<size_t>(n) * dim);
  Fit(k_, static_cast<size_t>(n) * kv_dim);
  Fit(v_, static_cast<size_t>(n) * kv_dim);
  Fit(gate_, static_cast<size_t>(n) * ffn);
  Fit(up_, static_cast<size_t>(n) * ffn);
  positions_.resize(n);
  for (int i = 0; i < n; ++i) positions_[i] = n_past + i;

  for (int i = 0; i < n; ++i) model_.Embed(tokens[i], &x_[static_cast<size_t>(i) * dim]);
  for (int l = 0; l < c.n_layers; ++l) {
    const LlamaLayer& L = model_.layers()[l];
    kernels::RmsNormRef(x_.data(), L.attn_norm.data(), h_.data(), n, dim, c.rms_eps);
    Project(h_.data(), L.wq, q_.data(), n, false);
    Project(h_.data(), L.wk, k_.data(), n, false);
    Project(h_.data(), L.wv, v_.data(), n, false);
    kernels::RopeRef(q_.data(), positions_.data(), n, c.n_head, hd, dim, c.rot_dim,
                     c.rope_freq_base);
    kernels::RopeRef(k_.data(), positions_.data(), n, c.n_head_kv, hd, kv_dim, c.rot_dim,
                     c.rope_freq_base);
    kernels::KvCacheWriteRef(k_.data(), v_.data(), n, n_past, seq.block_table().data(),
                             seq.pool().layer(l));
    Attention(l, seq, n, n_past);
    Project(att_.data(), L.wo, x_.data(), n, true);

    kernels::RmsNormRef(x_.data(), L.ffn_norm.data(), h_.data(), n, dim, c.rms_eps);
    Project(h_.data(), L.w_gate, gate_.data(), n, false);
    Project(h_.data(), L.w_up, up_.data(), n, false);
    kernels::SwigluRef(gate_.data(), up_.data(), gate_.data(), static_cast<size_t>(n) * ffn);
    Project(gate_.data(), L.w_down, x_.data(), n, true);
  }
  seq.set_n_tokens(n_past + n);

  // Only the rows whose logits are wanted go through the (large) output matrix.
  const int first = mode == LogitsMode::kAll ? 0 : n - 1;
  const int rows = n - first;
  kernels::RmsNormRef(&x_[static_cast<size_t>(first) * dim], model_.output_norm().data(), h_.data(),
                      rows, dim, c.rms_eps);
  logits->resize(static_cast<size_t>(rows) * c.vocab);
  Project(h_.data(), model_.output(), logits->data(), rows, false);
  return Status::Ok();
}

void LlamaRunner::Attention(int layer, KvSequence& seq, int n_new, int n_past) {
  const LlamaConfig& c = model_.config();
  const kernels::AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim(),
                                      1.0f / std::sqrt(static_cast<float>(c.head_dim()))};
  const kernels::PagedKv kv = seq.pool().layer(layer);
  if (n_new == 1) {
    const int32_t context_len = n_past + 1;
    kernels::PagedAttentionDecodeRef(q_.data(), 1, seq.block_table().data(),
                                     static_cast<int>(seq.block_table().size()), &context_len, kv,
                                     shape, att_.data());
  } else {
    kernels::PagedAttentionPrefillRef(q_.data(), n_new, n_past, seq.block_table().data(), kv, shape,
                                      att_.data());
  }
}

}  // namespace tierkv::core
