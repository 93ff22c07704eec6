// Matrix-vector product over f16 weights: y[n] = W[n][k] . x (or y += ...).
//
// The single-token forward (decode, and the last token of a fully cached
// prompt) is bound by streaming the weights from memory; reading them as f16
// halves that traffic, and the kernel's job is to keep the memory busy: four
// rows per pass share each load of x, with two independent accumulators per
// row, so enough loads are in flight to stream at the bandwidth limit. Rows
// are split over all cores (ParallelFor) in runs of whole cache lines.
// Products accumulate in f32 whatever the path, so paths differ only by
// summation order.
//
// Paths: kScalar (portable, also the tests' reference), kAvx2 (AVX2 + FMA +
// F16C, 8 lanes), kAvx512 (AVX-512 F/BW/DQ/VL, 16 lanes). MatVecF16Ref takes
// the fastest one the host supports (HostCpuFeatures), chosen once.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/cpu_features.h"

namespace tierkv::kernels {

enum class MatVecPath { kScalar, kAvx2, kAvx512 };

std::string_view MatVecPathName(MatVecPath path);
// Every path `cpu` can run, slowest first.
std::vector<MatVecPath> SupportedMatVecPaths(const CpuFeatures& cpu);
// The fastest of them; for the host, the one MatVecF16Ref uses.
MatVecPath BestMatVecPath(const CpuFeatures& cpu);

// `w` is [n][k] IEEE half; `x` is [k]; `y` is [n]. `path` must be supported
// by the host (SupportedMatVecPaths(HostCpuFeatures())).
void MatVecF16(MatVecPath path, const uint16_t* w, const float* x, float* y, int n, int k,
               bool accumulate);

// MatVecF16 on BestMatVecPath(HostCpuFeatures()).
void MatVecF16Ref(const uint16_t* w, const float* x, float* y, int n, int k, bool accumulate);

}  // namespace tierkv::kernels
