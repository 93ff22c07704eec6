// Decode attention, split over long contexts (flash-decoding): one thread
// block per (split, KV head, sequence) computes the split's scores for every
// query head of the KV head's group, so each K and V row is read from memory
// once per group rather than once per query head; a second kernel merges the
// splits' partial softmax results.
#include <algorithm>
#include <cmath>

#include "kernels/cuda_dtype.cuh"
#include "kernels/cuda_util.h"
#include "kernels/paged_attention.cuh"

namespace tierkv::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
// head_dim / 32 K values per lane in the score loop.
constexpr int kMaxDimsPerLane = kAttentionMaxHeadDim / 32;
// The default dynamic shared-memory limit; above it a kernel must opt in.
constexpr size_t kDefaultSharedLimit = 48 * 1024;
// Work items per multiprocessor the split plan aims for: a few waves hide the
// tail of uneven sequence lengths.
constexpr int kCtasPerSm = 4;

template <typename T, typename Unit = typename cuda::KvStorage<T>::Unit>
__global__ void __launch_bounds__(kThreads)
    DecodeSplitKernel(const float* __restrict__ q, const int32_t* __restrict__ block_tables,
                      int max_blocks_per_seq, const int32_t* __restrict__ context_lens,
                      const Unit* __restrict__ k_pool, const Unit* __restrict__ v_pool,
                      int64_t page_stride, int block_tokens, int64_t row_units, int n_head,
                      int head_dim, int group, float scale, int split_tokens, int n_splits,
                      float* __restrict__ partial, float* __restrict__ out) {
  extern __shared__ float smem[];
  // p_s holds [group][split_tokens] scores, then probabilities, and at the end
  // the position lanes' partial outputs (up to [kThreads / head_dim][group][head_dim]
  // <= group * kThreads floats): it is sized for the larger of the two.
  const int p_floats = group * max(split_tokens, kThreads);
  float* q_s = smem;                    // [group][head_dim]
  float* p_s = q_s + group * head_dim;  // see above
  float* m_s = p_s + p_floats;          // [group]
  float* l_s = m_s + group;             // [group]

  const int split = blockIdx.x;
  const int kvh = blockIdx.y;
  const int seq = blockIdx.z;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int begin = split * split_tokens;
  const int n = min(context_lens[seq], begin + split_tokens) - begin;  // <= 0: nothing to do
  const int32_t* table = block_tables + static_cast<int64_t>(seq) * max_blocks_per_seq;
  const int h0 = kvh * group;
  const int64_t row_stride = static_cast<int64_t>(n_head) * head_dim;

  // The group's query heads are adjacent in q: one contiguous copy.
  const float* q_group = q + seq * row_stride + static_cast<int64_t>(h0) * head_dim;
  for (int i = threadIdx.x; i < group * head_dim; i += kThreads) q_s[i] = q_group[i] * scale;
  __syncthreads();

  // Scores: one warp per position, lanes across head_dim (coalesced row reads).
  for (int t = warp; t < n; t += kWarps) {
    const Unit* k_row =
        k_pool + PagedRowOffset(table, page_stride, block_tokens, row_units, begin + t);
    float k_reg[kMaxDimsPerLane];
#pragma unroll
    for (int j = 0; j < kMaxDimsPerLane; ++j) {
      k_reg[j] = j * 32 < head_dim ? cuda::KvStorage<T>::Load(k_row, kvh * head_dim + lane + 32 * j)
                                   : 0.0f;
    }
    for (int g = 0; g < group; ++g) {
      const float* qg = q_s + g * head_dim;
      float dot = 0.0f;
#pragma unroll
      for (int j = 0; j < kMaxDimsPerLane; ++j) {
        if (j * 32 < head_dim) dot += qg[lane + 32 * j] * k_reg[j];
      }
      dot = cuda::WarpSum(dot);
      if (lane == 0) p_s[g * split_tokens + t] = dot;
    }
  }
  __syncthreads();

  // Softmax within the split: one warp per query head.
  for (int g = warp; g < group; g += kWarps) {
    float* pg = p_s + g * split_tokens;
    float m = -INFINITY;
    for (int t = lane; t < n; t += 32) m = fmaxf(m, pg[t]);
    m = cuda::WarpMax(m);
    float l = 0.0f;
    for (int t = lane; t < n; t += 32) {
      const float e = __expf(pg[t] - m);
      pg[t] = e;
      l += e;
    }
    l = cuda::WarpSum(l);
    if (lane == 0) {
      m_s[g] = m;
      l_s[g] = l;
    }
  }
  __syncthreads();

  // P V: thread (t_lane, d) sums positions t_lane, t_lane + n_lanes, ... for
  // output dim d of every head of the group; each V row is read once, coalesced.
  const int n_lanes = kThreads / head_dim;
  const int t_lane = threadIdx.x / head_dim;
  const int d = threadIdx.x % head_dim;
  const bool active = t_lane < n_lanes;
  float acc[kDecodeMaxGroup];
#pragma unroll
  for (int g = 0; g < kDecodeMaxGroup; ++g) acc[g] = 0.0f;
  if (active) {
    for (int t = t_lane; t < n; t += n_lanes) {
      const Unit* v_row =
          v_pool + PagedRowOffset(table, page_stride, block_tokens, row_units, begin + t);
      const float v = cuda::KvStorage<T>::Load(v_row, kvh * head_dim + d);
#pragma unroll
      for (int g = 0; g < kDecodeMaxGroup; ++g) {
        if (g < group) acc[g] += p_s[g * split_tokens + t] * v;
      }
    }
  }
  if (n_lanes > 1) {
    // Fold the position lanes together through shared memory; p_s is free
    // once every thread is past the loop above.
    __syncthreads();
    if (active) {
#pragma unroll
      for (int g = 0; g < kDecodeMaxGroup; ++g) {
        if (g < group) p_s[(t_lane * group + g) * head_dim + d] = acc[g];
      }
    }
    __syncthreads();
    if (t_lane == 0) {
      for (int other = 1; other < n_lanes; ++other) {
#pragma unroll
        for (int g = 0; g < kDecodeMaxGroup; ++g) {
          if (g < group) acc[g] += p_s[(other * group + g) * head_dim + d];
        }
      }
    }
  }
  if (t_lane != 0) return;
#pragma unroll
  for (int g = 0; g < kDecodeMaxGroup; ++g) {
    if (g >= group) break;
    const int h = h0 + g;
    const float l = l_s[g];
    const float o = l > 0.0f ? acc[g] / l : 0.0f;
    if (n_splits == 1) {
      out[seq * row_stride + static_cast<int64_t>(h) * head_dim + d] = o;
      continue;
    }
    float* part =
        partial + ((static_cast<int64_t>(seq) * n_head + h) * n_splits + split) * (head_dim + 2);
    part[d] = o;
    if (d == 0) {
      part[head_dim] = m_s[g];
      part[head_dim + 1] = l;
    }
  }
}

// Merges the splits of one (query head, sequence): each split's normalized
// output weighs by exp(m_split - m_max) * l_split. Splits past the sequence's
// context have l == 0 and drop out.
__global__ void DecodeMergeKernel(const float* __restrict__ partial, int n_head, int head_dim,
                                  int n_splits, float* __restrict__ out) {
  const int h = blockIdx.x;
  const int seq = blockIdx.y;
  const int d = threadIdx.x;
  const int64_t stride = head_dim + 2;
  const float* base = partial + (static_cast<int64_t>(seq) * n_head + h) * n_splits * stride;
  float m_max = -INFINITY;
  for (int s = 0; s < n_splits; ++s) {
    if (base[s * stride + head_dim + 1] > 0.0f) m_max = fmaxf(m_max, base[s * stride + head_dim]);
  }
  float num = 0.0f;
  float den = 0.0f;
  for (int s = 0; s < n_splits; ++s) {
    const float l = base[s * stride + head_dim + 1];
    if (l <= 0.0f) continue;
    const float w = __expf(base[s * stride + head_dim] - m_max) * l;
    num += w * base[s * stride + d];
    den += w;
  }
  out[(static_cast<int64_t>(seq) * n_head + h) * head_dim + d] = den > 0.0f ? num / den : 0.0f;
}

template <typename T>
Status LaunchDecode(const float* q, int n_seqs, const int32_t* block_tables, int max_blocks_per_seq,
                    const int32_t* context_lens, const PagedKv& kv, const AttentionShape& shape,
                    const DecodeSplitPlan& plan, float* partial, float* out, cudaStream_t stream) {
  const int group = shape.n_head / shape.n_head_kv;
  const size_t smem =
      sizeof(float) *
      (static_cast<size_t>(group) * (shape.head_dim + std::max(plan.split_tokens, kThreads)) +
       2 * group);
  if (smem > kDefaultSharedLimit) {
    TIERKV_CUDA_RETURN_IF_ERROR(cudaFuncSetAttribute(
        DecodeSplitKernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  }
  const dim3 grid(plan.n_splits, shape.n_head_kv, n_seqs);
  using Unit = typename cuda::KvStorage<T>::Unit;
  DecodeSplitKernel<T><<<grid, kThreads, smem, stream>>>(
      q, block_tables, max_blocks_per_seq, context_lens, static_cast<const Unit*>(kv.k),
      static_cast<const Unit*>(kv.v), kv.page_stride, kv.block_tokens, kv.row_units(), shape.n_head,
      shape.head_dim, group, shape.scale, plan.split_tokens, plan.n_splits, partial, out);
  TIERKV_RETURN_IF_ERROR(LaunchStatus("DecodeSplitKernel"));
  if (plan.n_splits == 1) return Status::Ok();
  DecodeMergeKernel<<<dim3(shape.n_head, n_seqs), shape.head_dim, 0, stream>>>(
      partial, shape.n_head, shape.head_dim, plan.n_splits, out);
  return LaunchStatus("DecodeMergeKernel");
}

}  // namespace

Result<DecodeSplitPlan> PlanDecodeForDevice(int max_context_len, int n_seqs, int n_head_kv) {
  int device = 0;
  TIERKV_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
  int sms = 0;
  TIERKV_CUDA_RETURN_IF_ERROR(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return PlanDecodeSplits(max_context_len, n_seqs, n_head_kv, kCtasPerSm * sms);
}

Status PagedAttentionDecodeCuda(const float* q, int n_seqs, const int32_t* block_tables,
                                int max_blocks_per_seq, const int32_t* context_lens,
                                int max_context_len, const PagedKv& kv, const AttentionShape& shape,
                                const DecodeSplitPlan& plan, void* workspace,
                                size_t workspace_bytes, float* out, cudaStream_t stream) {
  TIERKV_RETURN_IF_ERROR(CheckAttentionShape(shape));
  TIERKV_RETURN_IF_ERROR(CheckPagedKv(kv, shape));
  TIERKV_RETURN_IF_ERROR(
      CheckDecodeArgs(n_seqs, max_blocks_per_seq, max_context_len, shape, plan, workspace_bytes));
  if (n_seqs == 0) return Status::Ok();
  if (q == nullptr || block_tables == nullptr || context_lens == nullptr || out == nullptr ||
      (plan.n_splits > 1 && workspace == nullptr)) {
    return Status::InvalidArgument("decode: null pointer");
  }
  float* partial = static_cast<float*>(workspace);
  switch (kv.dtype) {
    case KvDtype::kF32:
      return LaunchDecode<float>(q, n_seqs, block_tables, max_blocks_per_seq, context_lens, kv,
                                 shape, plan, partial, out, stream);
    case KvDtype::kF16:
      return LaunchDecode<__half>(q, n_seqs, block_tables, max_blocks_per_seq, context_lens, kv,
                                  shape, plan, partial, out, stream);
    case KvDtype::kBf16:
      return LaunchDecode<__nv_bfloat16>(q, n_seqs, block_tables, max_blocks_per_seq, context_lens,
                                         kv, shape, plan, partial, out, stream);
    case KvDtype::kQ8_0:
      return LaunchDecode<cuda::KvQ8_0>(q, n_seqs, block_tables, max_blocks_per_seq, context_lens,
                                        kv, shape, plan, partial, out, stream);
  }
  return Status::InvalidArgument("decode: unknown KV dtype");
}

}  // namespace tierkv::kernels
