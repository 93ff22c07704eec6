#include "kernels/rmsnorm_ref.h"

#include <cmath>

namespace tierkv::kernels {

void RmsNormRef(const float* x, const float* w, float* y, int rows, int dim, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<long>(r) * dim;
    float* yr = y + static_cast<long>(r) * dim;
    // Sum in double, then the mean and scale in float, as ggml's rms_norm does.
    double sum = 0.0;
    for (int i = 0; i < dim; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float mean = static_cast<float>(sum / dim);
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int i = 0; i < dim; ++i) yr[i] = xr[i] * scale * w[i];
  }
}

}  // namespace tierkv::kernels
