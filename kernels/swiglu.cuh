// SwiGLU on the GPU: the same contract as SwigluRef (swiglu_ref.h), device
// pointers, queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "tierkv/status.h"

namespace tierkv::kernels {

// `out` may alias `gate` or `up`.
Status SwigluCuda(const float* gate, const float* up, float* out, size_t n, cudaStream_t stream);

}  // namespace tierkv::kernels
