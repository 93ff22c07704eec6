// Rotary position embedding as llama.cpp applies it to the LLAMA architecture
// ("normal" mode): within each head, the adjacent pair (x[2i], x[2i+1]) is
// rotated by angle pos * theta_i with theta_i = freq_base^(-2i / rot_dim).
// Only the first `rot_dim` values of each head rotate; the rest pass through.
#pragma once

#include <cstdint>

namespace tierkv::kernels {

// In place on `x`, laid out [n_tokens][n_heads * head_dim] with rows
// `row_stride` floats apart; token t sits at absolute position positions[t].
void RopeRef(float* x, const int32_t* positions, int n_tokens, int n_heads, int head_dim,
             int row_stride, int rot_dim, float freq_base);

}  // namespace tierkv::kernels
