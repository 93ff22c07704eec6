// SwiGLU gate: out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)).
#pragma once

#include <cstddef>

namespace tierkv::kernels {

// `out` may alias `gate` or `up`.
void SwigluRef(const float* gate, const float* up, float* out, size_t n);

}  // namespace tierkv::kernels
