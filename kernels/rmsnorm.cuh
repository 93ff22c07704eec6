// RMSNorm on the GPU: the same contract as RmsNormRef (rmsnorm_ref.h), with all
// pointers in device memory and the work queued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include "tierkv/status.h"

namespace tierkv::kernels {

// `x` and `y` may be the same buffer. InvalidArgument for bad shapes; a CUDA
// launch error becomes a Status.
Status RmsNormCuda(const float* x, const float* w, float* y, int rows, int dim, float eps,
                   cudaStream_t stream);

}  // namespace tierkv::kernels
