#include "paged_attention_ref.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "softmax_ref.h"

namespace tierkv::kernels {
namespace {

// Queries per score tile: bounds the score buffer at kQueryTile * context floats
// while keeping each sgemm large enough to run at full speed.
constexpr int kQueryTile = 256;

int64_t RowOffset(const int32_t* block_table, const PagedKvLayer& kv, int pos) {
  return block_table[pos / kv.block_tokens] * kv.page_stride +
         static_cast<int64_t>(pos % kv.block_tokens) * kv.kv_dim;
}

// Copies KV head `head`'s rows for positions [0, len) into contiguous [len][head_dim].
void GatherHead(const float* base, const int32_t* block_table, const PagedKvLayer& kv, int head,
                int head_dim, int len, float* dst) {
  for (int p = 0; p < len; ++p) {
    std::memcpy(dst + static_cast<int64_t>(p) * head_dim,
                base + RowOffset(block_table, kv, p) + head * head_dim, sizeof(float) * head_dim);
  }
}

void Grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

void PagedAttentionPrefillRef(const float* q, int n_new, int n_past, const int32_t* block_table,
                              const PagedKvLayer& kv, const AttentionShape& shape, float* out) {
  const int hd = shape.head_dim;
  const int total = n_past + n_new;
  const int group = shape.n_head / shape.n_head_kv;
  const int row_stride = shape.n_head * hd;
  // Reused across calls: fresh multi-megabyte buffers per layer cost more in
  // page faults and zeroing than the attention math at long contexts.
  thread_local std::vector<float> keys, values, scores;
  Grow(keys, static_cast<size_t>(total) * hd);
  Grow(values, static_cast<size_t>(total) * hd);
  Grow(scores, static_cast<size_t>(std::min(n_new, kQueryTile)) * total);
  for (int g = 0; g < shape.n_head_kv; ++g) {
    GatherHead(kv.k, block_table, kv, g, hd, total, keys.data());
    GatherHead(kv.v, block_table, kv, g, hd, total, values.data());
    for (int h = g * group; h < (g + 1) * group; ++h) {
      for (int r0 = 0; r0 < n_new; r0 += kQueryTile) {
        const int rows = std::min(kQueryTile, n_new - r0);
        // Keys past the tile's last query are masked for every row: skip them.
        const int cols = n_past + r0 + rows;
        const float* q_tile = q + static_cast<int64_t>(r0) * row_stride + h * hd;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, hd, shape.scale, q_tile,
                    row_stride, keys.data(), hd, 0.0f, scores.data(), cols);
        for (int i = 0; i < rows; ++i) {
          float* row = scores.data() + static_cast<int64_t>(i) * cols;
          const int visible = n_past + r0 + i + 1;
          SoftmaxRef(row, 1, visible, cols);
          std::fill(row + visible, row + cols, 0.0f);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, cols, 1.0f, scores.data(),
                    cols, values.data(), hd, 0.0f,
                    out + static_cast<int64_t>(r0) * row_stride + h * hd, row_stride);
      }
    }
  }
}

void PagedAttentionDecodeRef(const float* q, int n_seqs, const int32_t* block_tables,
                             int max_blocks_per_seq, const int32_t* context_lens,
                             const PagedKvLayer& kv, const AttentionShape& shape, float* out) {
  const int hd = shape.head_dim;
  const int group = shape.n_head / shape.n_head_kv;
  const int row_stride = shape.n_head * hd;
  thread_local std::vector<float> scores;
  for (int s = 0; s < n_seqs; ++s) {
    const int32_t* table = block_tables + static_cast<int64_t>(s) * max_blocks_per_seq;
    const int len = context_lens[s];
    Grow(scores, len);
    for (int h = 0; h < shape.n_head; ++h) {
      const int g = h / group;
      const float* qh = q + static_cast<int64_t>(s) * row_stride + h * hd;
      for (int p = 0; p < len; ++p) {
        const float* kp = kv.k + RowOffset(table, kv, p) + g * hd;
        float dot = 0.0f;
        for (int d = 0; d < hd; ++d) dot += qh[d] * kp[d];
        scores[p] = dot * shape.scale;
      }
      SoftmaxRef(scores.data(), 1, len, len);
      float* oh = out + static_cast<int64_t>(s) * row_stride + h * hd;
      std::fill(oh, oh + hd, 0.0f);
      for (int p = 0; p < len; ++p) {
        const float* vp = kv.v + RowOffset(table, kv, p) + g * hd;
        const float w = scores[p];
        for (int d = 0; d < hd; ++d) oh[d] += w * vp[d];
      }
    }
  }
}

}  // namespace tierkv::kernels
