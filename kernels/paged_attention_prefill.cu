// Prefill attention (flash-attention style, on CUDA cores): one thread block
// per (tile of kTileQ queries, query head) streams the causal range of K/V in
// tiles of kTileK positions through shared memory, converting f16/bf16/q8_0
// to f32 on load, and keeps an online softmax per query row so the score matrix never
// reaches device memory.
#include <cmath>

#include "kernels/cuda_dtype.cuh"
#include "kernels/cuda_util.h"
#include "kernels/paged_attention.cuh"

namespace tierkv::kernels {
namespace {

constexpr int kTileQ = 32;
constexpr int kTileK = 32;
constexpr int kThreadsPerRow = 4;
constexpr int kThreads = kTileQ * kThreadsPerRow;
constexpr int kColsPerThread = kTileK / kThreadsPerRow;
// Output dims per thread: thread `sub` of a row owns dims sub, sub + 4, ...
constexpr int kMaxDimsPerThread = kAttentionMaxHeadDim / kThreadsPerRow;
constexpr size_t kDefaultSharedLimit = 48 * 1024;

// Shared-memory rows are padded by one float so that the rows a warp touches
// at once fall in different banks.
__host__ __device__ constexpr int PaddedDim(int head_dim) { return head_dim + 1; }

size_t PrefillSharedBytes(int head_dim) {
  return sizeof(float) * (static_cast<size_t>(kTileQ + 2 * kTileK) * PaddedDim(head_dim) +
                          static_cast<size_t>(kTileQ) * (kTileK + 1));
}

template <typename T, typename Unit = typename cuda::KvStorage<T>::Unit>
__global__ void __launch_bounds__(kThreads)
    PrefillKernel(const float* __restrict__ q, int n_new, int n_past,
                  const int32_t* __restrict__ table, const Unit* __restrict__ k_pool,
                  const Unit* __restrict__ v_pool, int64_t page_stride, int block_tokens,
                  int64_t row_units, int n_head, int head_dim, int group, float scale,
                  float* __restrict__ out) {
  extern __shared__ float smem[];
  const int ld = PaddedDim(head_dim);
  float* q_s = smem;               // [kTileQ][ld], pre-scaled
  float* k_s = q_s + kTileQ * ld;  // [kTileK][ld]
  float* v_s = k_s + kTileK * ld;  // [kTileK][ld]
  float* p_s = v_s + kTileK * ld;  // [kTileQ][kTileK + 1]

  const int h = blockIdx.y;
  const int kvh = h / group;
  const int q0 = blockIdx.x * kTileQ;
  const int64_t row_stride = static_cast<int64_t>(n_head) * head_dim;
  for (int i = threadIdx.x; i < kTileQ * head_dim; i += kThreads) {
    const int r = i / head_dim;
    const int d = i % head_dim;
    q_s[r * ld + d] =
        q0 + r < n_new ? q[(q0 + r) * row_stride + static_cast<int64_t>(h) * head_dim + d] * scale
                       : 0.0f;
  }

  const int r = threadIdx.x / kThreadsPerRow;
  const int sub = threadIdx.x % kThreadsPerRow;
  // Rows past n_new compute like real ones (their position is past every key
  // they see, so every tile has a visible key) and are simply not written.
  const int q_pos = n_past + q0 + r;
  const int kv_end = n_past + min(n_new, q0 + kTileQ);
  float m = -INFINITY;
  float l = 0.0f;
  float acc[kMaxDimsPerThread];
#pragma unroll
  for (int i = 0; i < kMaxDimsPerThread; ++i) acc[i] = 0.0f;

  for (int k0 = 0; k0 < kv_end; k0 += kTileK) {
    __syncthreads();  // the previous tile's K, V and P are consumed
    for (int i = threadIdx.x; i < kTileK * head_dim; i += kThreads) {
      const int c = i / head_dim;
      const int d = i % head_dim;
      const int pos = k0 + c;
      float kx = 0.0f;
      float vx = 0.0f;
      if (pos < kv_end) {
        const int64_t row = PagedRowOffset(table, page_stride, block_tokens, row_units, pos);
        kx = cuda::KvStorage<T>::Load(k_pool + row, kvh * head_dim + d);
        vx = cuda::KvStorage<T>::Load(v_pool + row, kvh * head_dim + d);
      }
      k_s[c * ld + d] = kx;
      v_s[c * ld + d] = vx;
    }
    __syncthreads();

    float s[kColsPerThread];
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < kColsPerThread; ++j) {
      const int c = sub + kThreadsPerRow * j;
      const int pos = k0 + c;
      s[j] = -INFINITY;
      if (pos <= q_pos && pos < kv_end) {
        const float* qr = q_s + r * ld;
        const float* kc = k_s + c * ld;
        float dot = 0.0f;
        for (int d = 0; d < head_dim; ++d) dot += qr[d] * kc[d];
        s[j] = dot;
      }
      tile_max = fmaxf(tile_max, s[j]);
    }
    // The kThreadsPerRow threads of a row are adjacent lanes of one warp.
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
    // Finite: position 0 is visible to every row in the first tile, so m is
    // finite from then on.
    const float m_new = fmaxf(m, tile_max);
    const float alpha = __expf(m - m_new);
    float p_sum = 0.0f;
#pragma unroll
    for (int j = 0; j < kColsPerThread; ++j) {
      const float p = s[j] == -INFINITY ? 0.0f : __expf(s[j] - m_new);
      p_s[r * (kTileK + 1) + sub + kThreadsPerRow * j] = p;
      p_sum += p;
    }
    p_sum += __shfl_xor_sync(0xffffffffu, p_sum, 1);
    p_sum += __shfl_xor_sync(0xffffffffu, p_sum, 2);
    l = l * alpha + p_sum;
    m = m_new;
    __syncwarp();  // the row's probabilities, written by its 4 lanes, are visible

#pragma unroll
    for (int i = 0; i < kMaxDimsPerThread; ++i) acc[i] *= alpha;
    for (int c = 0; c < kTileK; ++c) {
      const float p = p_s[r * (kTileK + 1) + c];
      const float* vc = v_s + c * ld + sub;
#pragma unroll
      for (int i = 0; i < kMaxDimsPerThread; ++i) {
        if (i * kThreadsPerRow < head_dim) acc[i] += p * vc[i * kThreadsPerRow];
      }
    }
  }

  if (q0 + r >= n_new) return;
  float* o = out + (q0 + r) * row_stride + static_cast<int64_t>(h) * head_dim + sub;
  const float inv_l = 1.0f / l;
#pragma unroll
  for (int i = 0; i < kMaxDimsPerThread; ++i) {
    if (i * kThreadsPerRow < head_dim) o[i * kThreadsPerRow] = acc[i] * inv_l;
  }
}

template <typename T>
Status LaunchPrefill(const float* q, int n_new, int n_past, const int32_t* block_table,
                     const PagedKv& kv, const AttentionShape& shape, float* out,
                     cudaStream_t stream) {
  const size_t smem = PrefillSharedBytes(shape.head_dim);
  if (smem > kDefaultSharedLimit) {
    TIERKV_CUDA_RETURN_IF_ERROR(cudaFuncSetAttribute(
        PrefillKernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  }
  const dim3 grid((n_new + kTileQ - 1) / kTileQ, shape.n_head);
  using Unit = typename cuda::KvStorage<T>::Unit;
  PrefillKernel<T><<<grid, kThreads, smem, stream>>>(
      q, n_new, n_past, block_table, static_cast<const Unit*>(kv.k), static_cast<const Unit*>(kv.v),
      kv.page_stride, kv.block_tokens, kv.row_units(), shape.n_head, shape.head_dim,
      shape.n_head / shape.n_head_kv, shape.scale, out);
  return LaunchStatus("PrefillKernel");
}

}  // namespace

Status PagedAttentionPrefillCuda(const float* q, int n_new, int n_past, const int32_t* block_table,
                                 const PagedKv& kv, const AttentionShape& shape, float* out,
                                 cudaStream_t stream) {
  TIERKV_RETURN_IF_ERROR(CheckAttentionShape(shape));
  TIERKV_RETURN_IF_ERROR(CheckPagedKv(kv, shape));
  if (n_new < 0 || n_past < 0) {
    return Status::InvalidArgument("prefill: n_new and n_past must be >= 0");
  }
  if (n_new == 0) return Status::Ok();
  if (q == nullptr || block_table == nullptr || out == nullptr) {
    return Status::InvalidArgument("prefill: null pointer");
  }
  switch (kv.dtype) {
    case KvDtype::kF32:
      return LaunchPrefill<float>(q, n_new, n_past, block_table, kv, shape, out, stream);
    case KvDtype::kF16:
      return LaunchPrefill<__half>(q, n_new, n_past, block_table, kv, shape, out, stream);
    case KvDtype::kBf16:
      return LaunchPrefill<__nv_bfloat16>(q, n_new, n_past, block_table, kv, shape, out, stream);
    case KvDtype::kQ8_0:
      return LaunchPrefill<cuda::KvQ8_0>(q, n_new, n_past, block_table, kv, shape, out, stream);
  }
  return Status::InvalidArgument("prefill: unknown KV dtype");
}

}  // namespace tierkv::kernels
