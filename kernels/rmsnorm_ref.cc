#include "rmsnorm_ref.h"

#include <cmath>

namespace tierkv::kernels {

void RmsNormRef(const float* x, const float* w, float* y, int rows, int dim, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<long>(r) * dim;
    float* yr = y + static_cast<long>(r) * dim;
    // Accumulate in double: rows of thousands of values lose bits in float.
    double sum = 0.0;
    for (int i = 0; i < dim; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float scale = static_cast<float>(1.0 / std::sqrt(sum / dim + eps));
    for (int i = 0; i < dim; ++i) yr[i] = xr[i] * scale * w[i];
  }
}

}  // namespace tierkv::kernels
