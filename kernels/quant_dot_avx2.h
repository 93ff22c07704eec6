// AVX2 (with FMA and F16C) versions of the quantized dot products in
// quant_dot_ref.h: same contract, same bits. Call them only where
// CpuFeatures::has_avx2_fma() holds; this file's code is compiled for AVX2
// whatever the rest of the build targets.
#pragma once

#include "kernels/quant_dot_ref.h"

namespace tierkv::kernels {

void DotQ8_0Avx2(const QuantDotTile& tile);
void DotQ4_0Avx2(const QuantDotTile& tile);
void DotQ4_0x8Avx2(const QuantDotTile& tile);  // regrouped weights (quant_repack.h)
void DotQ4KAvx2(const QuantDotTile& tile);
void DotQ6KAvx2(const QuantDotTile& tile);

}  // namespace tierkv::kernels
