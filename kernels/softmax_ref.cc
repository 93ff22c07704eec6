#include "kernels/softmax_ref.h"

#include <algorithm>
#include <cmath>

namespace tierkv::kernels {

void SoftmaxRef(float* x, int rows, int cols, int stride) {
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<long>(r) * stride;
    const float max = *std::max_element(row, row + cols);
    float sum = 0.0f;
    for (int c = 0; c < cols; ++c) {
      row[c] = std::exp(row[c] - max);
      sum += row[c];
    }
    const float inv = 1.0f / sum;
    for (int c = 0; c < cols; ++c) row[c] *= inv;
  }
}

}  // namespace tierkv::kernels
