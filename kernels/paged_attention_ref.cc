#include "kernels/paged_attention_ref.h"

#include <cblas.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <thread>
#include <vector>

#include "kernels/blas_setup.h"
#include "kernels/parallel_for.h"
#include "kernels/softmax_ref.h"

namespace tierkv::kernels {
namespace {

// Queries per score tile: bounds the score buffer at kQueryTile * context floats
// while keeping each sgemm large enough to run at full speed.
constexpr int kQueryTile = 256;
// Below this many attention scores, thread start-up costs more than it saves.
constexpr int64_t kMinParallelScores = 1 << 16;
// The widest head the decode's per-row conversion buffer holds (the CUDA
// kernels' limit too).
constexpr int kMaxHeadDim = 256;

// KV head `head`'s slice of the K or V row of position `pos` as f32: read in
// place for f32 pages, converted into `scratch` (head_dim floats) otherwise.
const float* HeadSlice(const void* base, const int32_t* block_table, const PagedKv& kv, int pos,
                       int head, int head_dim, float* scratch) {
  const int64_t unit =
      PagedRowOffset(block_table, kv.page_stride, kv.block_tokens, kv.row_units(), pos) +
      KvRowUnitOffset(kv.dtype, head * head_dim);
  const auto* row = static_cast<const std::byte*>(base) + unit * KvUnitBytes(kv.dtype);
  if (kv.dtype == KvDtype::kF32) return reinterpret_cast<const float*>(row);
  KvToF32(kv.dtype, row, scratch, head_dim);
  return scratch;
}

// Splits rows [0, len) of `base` by KV head into f32 dst[head][len][head_dim],
// in one front-to-back pass over the pages.
void GatherHeads(const void* base, const int32_t* block_table, const PagedKv& kv, int n_heads,
                 int head_dim, int len, float* dst) {
  const int64_t head_floats = static_cast<int64_t>(len) * head_dim;
  for (int p = 0; p < len; ++p) {
    for (int h = 0; h < n_heads; ++h) {
      float* out = dst + h * head_floats + static_cast<int64_t>(p) * head_dim;
      const float* slice = HeadSlice(base, block_table, kv, p, h, head_dim, out);
      if (slice != out) std::memcpy(out, slice, sizeof(float) * head_dim);
    }
  }
}

void Grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

namespace {

// Attention of query heads [h_begin, h_end) over gathered keys/values
// ([kv_head][total][head_dim]); `scores` holds kQueryTile * total floats.
void PrefillHeads(const float* q, int n_new, int n_past, const float* keys, const float* values,
                  const AttentionShape& shape, int h_begin, int h_end, float* scores, float* out) {
  const int hd = shape.head_dim;
  const int total = n_past + n_new;
  const int group = shape.n_head / shape.n_head_kv;
  const int row_stride = shape.n_head * hd;
  for (int h = h_begin; h < h_end; ++h) {
    const float* keys_g = keys + static_cast<int64_t>(h / group) * total * hd;
    const float* values_g = values + static_cast<int64_t>(h / group) * total * hd;
    for (int r0 = 0; r0 < n_new; r0 += kQueryTile) {
      const int rows = std::min(kQueryTile, n_new - r0);
      // Keys past the tile's last query are masked for every row: skip them.
      const int cols = n_past + r0 + rows;
      const float* q_tile = q + static_cast<int64_t>(r0) * row_stride + h * hd;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, hd, shape.scale, q_tile,
                  row_stride, keys_g, hd, 0.0f, scores, cols);
      for (int i = 0; i < rows; ++i) {
        float* row = scores + static_cast<int64_t>(i) * cols;
        const int visible = n_past + r0 + i + 1;
        SoftmaxRef(row, 1, visible, cols);
        std::fill(row + visible, row + cols, 0.0f);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, cols, 1.0f, scores, cols,
                  values_g, hd, 0.0f, out + static_cast<int64_t>(r0) * row_stride + h * hd,
                  row_stride);
    }
  }
}

}  // namespace

void PagedAttentionPrefillRef(const float* q, int n_new, int n_past, const int32_t* block_table,
                              const PagedKv& kv, const AttentionShape& shape, float* out) {
  EnsureBlasSetUp();
  const int hd = shape.head_dim;
  const int total = n_past + n_new;
  // Reused across calls: fresh multi-megabyte buffers per layer cost more in
  // page faults and zeroing than the attention math at long contexts.
  thread_local std::vector<float> keys, values;
  thread_local std::vector<std::vector<float>> scores;
  Grow(keys, static_cast<size_t>(total) * kv.kv_dim);
  Grow(values, static_cast<size_t>(total) * kv.kv_dim);
  GatherHeads(kv.k, block_table, kv, shape.n_head_kv, hd, total, keys.data());
  GatherHeads(kv.v, block_table, kv, shape.n_head_kv, hd, total, values.data());

  // Heads run on their own threads, each with single-threaded BLAS: the
  // products here are small (head_dim deep), and between them the softmax would
  // leave every BLAS worker but one spinning.
  const int workers = static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1u,
                                                            static_cast<unsigned>(shape.n_head)));
  if (scores.size() < static_cast<size_t>(workers)) scores.resize(workers);
  for (auto& s : scores) Grow(s, static_cast<size_t>(std::min(n_new, kQueryTile)) * total);
  if (workers == 1 || static_cast<int64_t>(n_new) * total < kMinParallelScores) {
    PrefillHeads(q, n_new, n_past, keys.data(), values.data(), shape, 0, shape.n_head,
                 scores[0].data(), out);
    return;
  }
  const int blas_threads = BlasThreads();
  SetBlasThreads(1);
  std::vector<std::thread> threads;
  // Plain pointers: inside a worker, the thread_local names would be its own (empty) buffers.
  const float* k = keys.data();
  const float* v = values.data();
  for (int w = 0; w < workers; ++w) {
    const int h_begin = shape.n_head * w / workers;
    const int h_end = shape.n_head * (w + 1) / workers;
    float* worker_scores = scores[w].data();
    threads.emplace_back([=, &shape] {
      PrefillHeads(q, n_new, n_past, k, v, shape, h_begin, h_end, worker_scores, out);
    });
  }
  for (std::thread& t : threads) t.join();
  SetBlasThreads(blas_threads);
}

void PagedAttentionDecodeRef(const float* q, int n_seqs, const int32_t* block_tables,
                             int max_blocks_per_seq, const int32_t* context_lens, const PagedKv& kv,
                             const AttentionShape& shape, float* out) {
  const int hd = shape.head_dim;
  assert(hd <= kMaxHeadDim);
  const int group = shape.n_head / shape.n_head_kv;
  const int row_stride = shape.n_head * hd;
  thread_local std::vector<float> scores;  // [n_head][len]
  for (int s = 0; s < n_seqs; ++s) {
    const int32_t* table = block_tables + static_cast<int64_t>(s) * max_blocks_per_seq;
    const int len = context_lens[s];
    Grow(scores, static_cast<size_t>(shape.n_head) * len);
    float* sc = scores.data();
    const float* qs = q + static_cast<int64_t>(s) * row_stride;
    float* os = out + static_cast<int64_t>(s) * row_stride;
    // One task per KV head. Within it, each K and V row slice is read once,
    // front to back, for every query head of the group.
    ParallelFor(shape.n_head_kv, [&](int g) {
      const int h0 = g * group;
      float slice[kMaxHeadDim];
      for (int p = 0; p < len; ++p) {
        const float* kh = HeadSlice(kv.k, table, kv, p, g, hd, slice);
        for (int h = h0; h < h0 + group; ++h) {
          const float* qh = qs + h * hd;
          float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
          for (int d = 0; d < hd; ++d) dot += qh[d] * kh[d];
          sc[static_cast<size_t>(h) * len + p] = dot * shape.scale;
        }
      }
      SoftmaxRef(sc + static_cast<size_t>(h0) * len, group, len, len);
      std::fill(os + h0 * hd, os + (h0 + group) * hd, 0.0f);
      for (int p = 0; p < len; ++p) {
        const float* vh = HeadSlice(kv.v, table, kv, p, g, hd, slice);
        for (int h = h0; h < h0 + group; ++h) {
          const float w = sc[static_cast<size_t>(h) * len + p];
          float* oh = os + h * hd;
#pragma omp simd
          for (int d = 0; d < hd; ++d) oh[d] += w * vh[d];
        }
      }
    });
  }
}

}  // namespace tierkv::kernels
