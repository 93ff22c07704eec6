#include "kernels/cuda_dtype.cuh"
#include "kernels/cuda_util.h"
#include "kernels/kernel_args.h"
#include "kernels/rmsnorm.cuh"

namespace tierkv::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// One block per row: the row is read twice (sum of squares, then scale), the
// second time mostly from L1/L2, so the kernel streams x and y once from DRAM.
__global__ void RmsNormKernel(const float* __restrict__ x, const float* __restrict__ w, float* y,
                              int dim, float eps) {
  const int64_t row = blockIdx.x;
  const float* xr = x + row * dim;
  float* yr = y + row * dim;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < dim; i += kThreads) sum += xr[i] * xr[i];
  __shared__ float partial[kWarps];
  sum = cuda::WarpSum(sum);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = sum;
  __syncthreads();
  if (threadIdx.x < 32) {
    float s = threadIdx.x < kWarps ? partial[threadIdx.x] : 0.0f;
    s = cuda::WarpSum(s);
    if (threadIdx.x == 0) partial[0] = s;
  }
  __syncthreads();
  const float scale = rsqrtf(partial[0] / dim + eps);
  for (int i = threadIdx.x; i < dim; i += kThreads) yr[i] = xr[i] * scale * w[i];
}

}  // namespace

Status RmsNormCuda(const float* x, const float* w, float* y, int rows, int dim, float eps,
                   cudaStream_t stream) {
  TIERKV_RETURN_IF_ERROR(CheckRmsNormArgs(rows, dim, eps));
  if (rows == 0) return Status::Ok();
  if (x == nullptr || w == nullptr || y == nullptr) {
    return Status::InvalidArgument("rmsnorm: null pointer");
  }
  RmsNormKernel<<<rows, kThreads, 0, stream>>>(x, w, y, dim, eps);
  return LaunchStatus("RmsNormKernel");
}

}  // namespace tierkv::kernels
