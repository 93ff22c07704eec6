#include <algorithm>

#include "kernels/cuda_dtype.cuh"
#include "kernels/cuda_util.h"
#include "kernels/kv_cache_write.cuh"

namespace tierkv::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;

// One thread per element of K (and of V): consecutive threads write
// consecutive elements of a row, so both the reads and the page writes coalesce.
template <typename T>
__global__ void KvCacheWriteKernel(const float* __restrict__ k, const float* __restrict__ v,
                                   int first_pos, const int32_t* __restrict__ block_table,
                                   T* k_pool, T* v_pool, int64_t page_stride, int block_tokens,
                                   int kv_dim, int64_t n_elems) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n_elems;
       i += stride) {
    const int t = static_cast<int>(i / kv_dim);
    const int d = static_cast<int>(i % kv_dim);
    const int64_t off =
        PagedRowOffset(block_table, page_stride, block_tokens, kv_dim, first_pos + t) + d;
    k_pool[off] = cuda::FromF32<T>(k[i]);
    v_pool[off] = cuda::FromF32<T>(v[i]);
  }
}

// q8_0: one warp per 32-value block of K and of V, quantized as
// QuantizeRowQ8_0Ref does (d = amax / 127 stored as f16, q = x * (127 / amax)
// rounded to nearest even), so CPU and GPU pages hold the same bytes.
__global__ void KvCacheWriteQ8_0Kernel(const float* __restrict__ k, const float* __restrict__ v,
                                       int first_pos, const int32_t* __restrict__ block_table,
                                       uint8_t* k_pool, uint8_t* v_pool, int64_t page_stride,
                                       int block_tokens, int kv_dim, int64_t row_units,
                                       int64_t n_blocks) {
  constexpr float kQ8Max = 127.0f;
  const int lane = threadIdx.x % 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (kThreads / 32);
  const int blocks_per_row = kv_dim / kQ8_0BlockValues;
  for (int64_t w = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) / 32; w < n_blocks;
       w += warps) {
    const int t = static_cast<int>(w / blocks_per_row);
    const int b = static_cast<int>(w % blocks_per_row);
    const int64_t src = static_cast<int64_t>(t) * kv_dim + b * kQ8_0BlockValues + lane;
    const int64_t dst =
        PagedRowOffset(block_table, page_stride, block_tokens, row_units, first_pos + t) +
        static_cast<int64_t>(b) * sizeof(BlockQ8_0);
    for (int side = 0; side < 2; ++side) {
      const float x = side == 0 ? k[src] : v[src];
      uint8_t* block = (side == 0 ? k_pool : v_pool) + dst;
      const float amax = cuda::WarpMax(fabsf(x));
      const float id = amax != 0.0f ? kQ8Max / amax : 0.0f;
      reinterpret_cast<int8_t*>(block + sizeof(uint16_t))[lane] =
          static_cast<int8_t>(__float2int_rn(x * id));
      if (lane == 0) *reinterpret_cast<__half*>(block) = __float2half_rn(amax / kQ8Max);
    }
  }
}

Status LaunchQ8_0(const float* k, const float* v, int n_tokens, int first_pos,
                  const int32_t* block_table, const PagedKv& kv, cudaStream_t stream) {
  if (kv.kv_dim % kQ8_0BlockValues != 0) {
    return Status::InvalidArgument("kv cache write: q8_0 rows need kv_dim a multiple of 32");
  }
  const int64_t n_blocks = static_cast<int64_t>(n_tokens) * (kv.kv_dim / kQ8_0BlockValues);
  const int64_t blocks = std::min(kMaxBlocks, (n_blocks * 32 + kThreads - 1) / kThreads);
  KvCacheWriteQ8_0Kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      k, v, first_pos, block_table, static_cast<uint8_t*>(kv.k), static_cast<uint8_t*>(kv.v),
      kv.page_stride, kv.block_tokens, kv.kv_dim, kv.row_units(), n_blocks);
  return LaunchStatus("KvCacheWriteQ8_0Kernel");
}

template <typename T>
Status Launch(const float* k, const float* v, int n_tokens, int first_pos,
              const int32_t* block_table, const PagedKv& kv, cudaStream_t stream) {
  const int64_t n_elems = static_cast<int64_t>(n_tokens) * kv.kv_dim;
  const int64_t blocks = std::min(kMaxBlocks, (n_elems + kThreads - 1) / kThreads);
  KvCacheWriteKernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      k, v, first_pos, block_table, static_cast<T*>(kv.k), static_cast<T*>(kv.v), kv.page_stride,
      kv.block_tokens, kv.kv_dim, n_elems);
  return LaunchStatus("KvCacheWriteKernel");
}

}  // namespace

Status KvCacheWriteCuda(const float* k, const float* v, int n_tokens, int first_pos,
                        const int32_t* block_table, const PagedKv& kv, cudaStream_t stream) {
  if (n_tokens < 0 || first_pos < 0) {
    return Status::InvalidArgument("kv cache write: n_tokens and first_pos must be >= 0");
  }
  if (kv.k == nullptr || kv.v == nullptr || kv.block_tokens <= 0 || kv.kv_dim <= 0 ||
      kv.page_stride < static_cast<int64_t>(kv.block_tokens) * kv.row_units()) {
    return Status::InvalidArgument("kv cache write: bad page layout");
  }
  if (n_tokens == 0) return Status::Ok();
  if (k == nullptr || v == nullptr || block_table == nullptr) {
    return Status::InvalidArgument("kv cache write: null pointer");
  }
  switch (kv.dtype) {
    case KvDtype::kF32:
      return Launch<float>(k, v, n_tokens, first_pos, block_table, kv, stream);
    case KvDtype::kF16:
      return Launch<__half>(k, v, n_tokens, first_pos, block_table, kv, stream);
    case KvDtype::kBf16:
      return Launch<__nv_bfloat16>(k, v, n_tokens, first_pos, block_table, kv, stream);
    case KvDtype::kQ8_0:
      return LaunchQ8_0(k, v, n_tokens, first_pos, block_table, kv, stream);
  }
  return Status::InvalidArgument("kv cache write: unknown KV dtype");
}

}  // namespace tierkv::kernels
