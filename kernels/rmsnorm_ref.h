// RMSNorm: y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for each of `rows` rows of `dim`.
#pragma once

namespace tierkv::kernels {

// `x` and `y` may be the same buffer.
void RmsNormRef(const float* x, const float* w, float* y, int rows, int dim, float eps);

}  // namespace tierkv::kernels
