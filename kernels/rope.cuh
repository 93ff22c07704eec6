// RoPE on the GPU: the same contract as RopeRef (rope_ref.h): llama.cpp's
// "normal" mode, adjacent pairs rotated, in place; `positions` and `x` in
// device memory, the work queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "tierkv/status.h"

namespace tierkv::kernels {

Status RopeCuda(float* x, const int32_t* positions, int n_tokens, int n_heads, int head_dim,
                int row_stride, int rot_dim, float freq_base, cudaStream_t stream);

}  // namespace tierkv::kernels
