#include "rope_ref.h"

#include <cmath>
#include <vector>

namespace tierkv::kernels {

void RopeRef(float* x, const int32_t* positions, int n_tokens, int n_heads, int head_dim,
             int row_stride, int rot_dim, float freq_base) {
  const int n_pairs = rot_dim / 2;
  // Angles in double like ggml's rope cache, so large positions keep their precision.
  std::vector<double> inv_freq(n_pairs);
  for (int i = 0; i < n_pairs; ++i) {
    inv_freq[i] = std::pow(static_cast<double>(freq_base), -2.0 * i / rot_dim);
  }
  std::vector<float> cos_t(n_pairs);
  std::vector<float> sin_t(n_pairs);
  for (int t = 0; t < n_tokens; ++t) {
    for (int i = 0; i < n_pairs; ++i) {
      const double angle = positions[t] * inv_freq[i];
      cos_t[i] = static_cast<float>(std::cos(angle));
      sin_t[i] = static_cast<float>(std::sin(angle));
    }
    float* row = x + static_cast<long>(t) * row_stride;
    for (int h = 0; h < n_heads; ++h) {
      float* head = row + h * head_dim;
      for (int i = 0; i < n_pairs; ++i) {
        const float x0 = head[2 * i];
        const float x1 = head[2 * i + 1];
        head[2 * i] = x0 * cos_t[i] - x1 * sin_t[i];
        head[2 * i + 1] = x0 * sin_t[i] + x1 * cos_t[i];
      }
    }
  }
}

}  // namespace tierkv::kernels
