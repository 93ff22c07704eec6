// Rotary position embedding as llama.cpp applies it to the LLAMA architecture
// ("normal" mode): within each head, the adjacent pair (x[2i], x[2i+1]) is
// rotated by angle pos * theta_i with theta_i = freq_base^(-2i / rot_dim).
// Only the first `rot_dim` values of each head rotate; the rest pass through.
#pragma once

#include <cstdint>

namespace tierkv::kernels {

// The factor between consecutive pairs' angles, freq_base^(-2 / rot_dim), in
// float as ggml forms it. Angles are then the float recurrence theta_0 = pos,
// theta_{i+1} = theta_i * scale (one rounding per step), which the CPU and
// CUDA kernels both follow so that they, and llama.cpp, round the same way.
float RopeThetaScale(float freq_base, int rot_dim);

// In place on `x`, laid out [n_tokens][n_heads * head_dim] with rows
// `row_stride` floats apart; token t sits at absolute position positions[t].
void RopeRef(float* x, const int32_t* positions, int n_tokens, int n_heads, int head_dim,
             int row_stride, int rot_dim, float freq_base);

}  // namespace tierkv::kernels
