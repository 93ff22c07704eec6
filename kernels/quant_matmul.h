// Matrix products with quantized weights, as ggml's CPU backend computes
// them: each activation row is quantized (Q8_0 for Q8_0 and Q4_0 weights,
// Q8_K for Q4_K and Q6_K) and every output is an integer dot product of the
// two quantized rows, scaled (quant_dot_ref.h states the exact arithmetic).
// The weights are never dequantized.
//
// Paths: the scalar reference runs anywhere; the AVX2 path (FMA, F16C) gives
// the same bits faster. QuantMatMul uses the path chosen for the CPU it runs
// on; tests call the others through QuantDotKernel.
#pragma once

#include <cstdint>
#include <string_view>

#include "kernels/cpu_features.h"
#include "kernels/quant_blocks.h"
#include "kernels/quant_dot_ref.h"

namespace tierkv::kernels {

enum class QuantPath { kScalar, kAvx2 };

std::string_view QuantPathName(QuantPath path);
// The fastest path `cpu` can run.
QuantPath ChooseQuantPath(const CpuFeatures& cpu);
// The path QuantMatMul uses on this machine.
QuantPath HostQuantPath();

// The type activations are quantized to for a product with `weights`.
QuantType ActivationTypeFor(QuantType weights);
// A quantized weight matrix: `rows` rows of `cols` values of `type` (cols a
// multiple of its block size), one after another, or for Q4_0 with
// `grouped`, regrouped by RepackQ4_0x8 (rows a multiple of 8).
struct QuantWeights {
  QuantType type = QuantType::kQ8_0;
  bool grouped = false;
  const void* data = nullptr;
  int rows = 0;
  int cols = 0;
};

// The dot-product kernel for weights of `type` (Q8_0, Q4_0, Q4_K or Q6_K;
// `grouped` for regrouped Q4_0) on `path`.
QuantDotFn QuantDotKernel(QuantType type, bool grouped, QuantPath path);

// y[m][w.rows] = x[m][w.cols] . w^T (or y += ... with `accumulate`), x rows
// `ldx` floats apart, y rows `ldy` apart. Work is spread over ParallelFor's pool.
// Thread safety: calls from several threads are serialized by ParallelFor;
// the activation scratch is per calling thread.
void QuantMatMul(const QuantWeights& w, const float* x, int ldx, float* y, int ldy, int m,
                 bool accumulate);

}  // namespace tierkv::kernels
