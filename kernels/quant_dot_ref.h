// Dot products of quantized weight rows with one quantized activation row,
// computed to the bit as ggml's x86 CPU backend computes them (its AVX2
// kernels, which its AVX-512 builds run too), so that llama.cpp's files give
// llama.cpp's logits. Every integer partial sum is exact; what fixes the float
// result is where those partials are turned into floats and in what order
// they are added:
//
// - Q8_0 x Q8_0 (ggml_vec_dot_q8_0_q8_0, llamafile's tinyBLAS for batches):
//   eight float lanes; lane t takes values 4t..4t+3 of every 32-value block,
//   acc[t] = fma(d_w * d_a, sum, acc[t]) block after block; the lanes are
//   added as ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)).
// - Q4_0 x Q8_0 (ggml's repacked q4_0_8x8 path, which x86 CPUs with AVX2 run
//   for every matrix whose row count is a multiple of 8): one float per row,
//   acc = fma(block sum, d_w * d_a, acc) block after block.
// - Q4_K x Q8_K: eight lanes as Q8_0's but per 256-value super-block, each
//   sub-block sum weighted by its 6-bit scale, acc[t] = fma(d_a * d_w, sum,
//   acc[t]); the mins in four lanes, lane u = m[2u] * s[2u] + m[2u+1] * s[2u+1]
//   with s[j] the activation sum of sub-block j, accm[u] = fma(-d_a * dmin,
//   that, accm[u]); result = lanes + ((m0+m2)+(m1+m3)).
// - Q6_K x Q8_K: eight lanes as Q4_K's, each 16-value group weighted by its
//   8-bit scale, acc[t] = fma(d_a * d_w, sum, acc[t]).
//
// These scalar kernels are the reference that the SIMD kernels
// (quant_dot_avx2.cc) must equal exactly.
//
// Every kernel computes one tile (QuantDotTile) of a product.
// Thread safety: pure functions.
#pragma once

#include <cstddef>

namespace tierkv::kernels {

// out[i * ld_out + r] = w_r . a_i for weight rows r < rows and activation
// rows i < a_rows, rows `w_row_bytes` and `a_row_bytes` apart, `blocks`
// blocks long. Activations are BlockQ8_0 for Q8_0 and Q4_0 weights, BlockQ8K
// for Q4_K and Q6_K.
struct QuantDotTile {
  const void* w = nullptr;
  size_t w_row_bytes = 0;
  int rows = 0;
  const void* a = nullptr;
  size_t a_row_bytes = 0;
  int a_rows = 0;
  int blocks = 0;
  float* out = nullptr;
  int ld_out = 0;
};

using QuantDotFn = void (*)(const QuantDotTile& tile);

void DotQ8_0Ref(const QuantDotTile& tile);
void DotQ4_0Ref(const QuantDotTile& tile);
void DotQ4KRef(const QuantDotTile& tile);
void DotQ6KRef(const QuantDotTile& tile);

}  // namespace tierkv::kernels
