#include "kernels/swiglu_ref.h"

#include <algorithm>
#include <cmath>

namespace tierkv::kernels {
namespace {

// exp(kMaxExponent) is finite in float; beyond it silu(g) is 0 to float precision anyway.
constexpr float kMaxExponent = 80.0f;

}  // namespace

void SwigluRef(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(std::min(-g, kMaxExponent))) * up[i];
  }
}

}  // namespace tierkv::kernels
