#include <algorithm>

#include "kernels/cuda_util.h"
#include "kernels/swiglu.cuh"

namespace tierkv::kernels {
namespace {

constexpr int kThreads = 256;
// Enough blocks to fill any current GPU several times over; the grid-stride
// loop covers the rest.
constexpr int64_t kMaxBlocks = 65536;

// Not __restrict__: `out` may alias an input, each element read before written.
__global__ void SwigluKernel(const float* gate, const float* up, float* out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n; i += stride) {
    const float g = gate[i];
    out[i] = g / (1.0f + __expf(-g)) * up[i];
  }
}

}  // namespace

Status SwigluCuda(const float* gate, const float* up, float* out, size_t n, cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  if (gate == nullptr || up == nullptr || out == nullptr) {
    return Status::InvalidArgument("swiglu: null pointer");
  }
  const int64_t blocks =
      std::min<int64_t>(kMaxBlocks, (static_cast<int64_t>(n) + kThreads - 1) / kThreads);
  SwigluKernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(gate, up, out,
                                                                       static_cast<int64_t>(n));
  return LaunchStatus("SwigluKernel");
}

}  // namespace tierkv::kernels
