// Device-side element conversions shared by the kernels that read or write KV
// pages in f32, f16, bf16 or q8_0; arithmetic is always f32.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/quant_blocks.h"

namespace tierkv::kernels::cuda {

template <typename T>
__device__ __forceinline__ float ToF32(T x);
template <>
__device__ __forceinline__ float ToF32<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ float ToF32<__half>(__half x) {
  return __half2float(x);
}
template <>
__device__ __forceinline__ float ToF32<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

template <typename T>
__device__ __forceinline__ T FromF32(float x);
template <>
__device__ __forceinline__ float FromF32<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __half FromF32<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromF32<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// Tag for q8_0 pages: rows of ggml Q8_0 blocks (kernels/kv_dtype.h),
// addressed in bytes.
struct KvQ8_0 {};

// How a kernel reads value i of a KV row stored as T (float, __half,
// __nv_bfloat16 or KvQ8_0): `Unit` is the storage unit rows are addressed
// in, Load the value as f32.
template <typename T>
struct KvStorage {
  using Unit = T;
  static __device__ __forceinline__ float Load(const Unit* row, int i) { return ToF32(row[i]); }
};
template <>
struct KvStorage<KvQ8_0> {
  using Unit = uint8_t;
  static __device__ __forceinline__ float Load(const Unit* row, int i) {
    const Unit* block = row + (i / kQ8_0BlockValues) * sizeof(BlockQ8_0);
    const float d = __half2float(*reinterpret_cast<const __half*>(block));
    const auto* qs = reinterpret_cast<const int8_t*>(block + sizeof(uint16_t));
    return d * static_cast<float>(qs[i % kQ8_0BlockValues]);
  }
};

__device__ __forceinline__ float WarpSum(float x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

__device__ __forceinline__ float WarpMax(float x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, offset));
  }
  return x;
}

}  // namespace tierkv::kernels::cuda
