#include "kernels/rope_ref.h"

#include <cmath>
#include <vector>

namespace tierkv::kernels {

float RopeThetaScale(float freq_base, int rot_dim) {
  return std::pow(freq_base, -2.0f / static_cast<float>(rot_dim));
}

void RopeRef(float* x, const int32_t* positions, int n_tokens, int n_heads, int head_dim,
             int row_stride, int rot_dim, float freq_base) {
  const int n_pairs = rot_dim / 2;
  // Angles exactly as ggml's rope cache computes them (float, theta multiplied
  // by theta_scale pair after pair, cosf/sinf), so positions far from 0 round
  // the same way as in llama.cpp and tokens agree with it.
  const float theta_scale = RopeThetaScale(freq_base, rot_dim);
  std::vector<float> cos_t(n_pairs);
  std::vector<float> sin_t(n_pairs);
  for (int t = 0; t < n_tokens; ++t) {
    float theta = static_cast<float>(positions[t]);
    for (int i = 0; i < n_pairs; ++i) {
      cos_t[i] = std::cos(theta);
      sin_t[i] = std::sin(theta);
      theta *= theta_scale;
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
