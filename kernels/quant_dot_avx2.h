// AVX2 (with FMA and F16C) versions of the quantized dot products in
// quant_dot_ref.h: same contract, same bits. Call them only where
// CpuFeatures::has_avx2_fma() holds; this file's code is compiled for AVX2
// whatever the rest of the build targets.
#pragma once

#include <cstddef>

namespace tierkv::kernels {

void DotRowsQ8_0Avx2(const void* w, size_t row_bytes, int rows, const void* a, int blocks,
                     float* out);
void DotRowsQ4_0Avx2(const void* w, size_t row_bytes, int rows, const void* a, int blocks,
                     float* out);
void DotRowsQ4KAvx2(const void* w, size_t row_bytes, int rows, const void* a, int blocks,
                    float* out);
void DotRowsQ6KAvx2(const void* w, size_t row_bytes, int rows, const void* a, int blocks,
                    float* out);

}  // namespace tierkv::kernels
