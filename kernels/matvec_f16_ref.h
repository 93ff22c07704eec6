// Matrix-vector product over f16 weights: y[n] = W[n][k] . x (or y += ...).
//
// The single-token forward (decode, and the last token of a fully cached
// prompt) is bound by streaming the weights from memory; reading them as f16
// halves that traffic. Products accumulate in f32. Rows are split over all
// cores (ParallelFor).
#pragma once

#include <cstdint>

namespace tierkv::kernels {

// `w` is [n][k] IEEE half; `x` is [k]; `y` is [n].
void MatVecF16Ref(const uint16_t* w, const float* x, float* y, int n, int k, bool accumulate);

}  // namespace tierkv::kernels
