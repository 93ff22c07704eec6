#include <cmath>

#include "kernels/cuda_util.h"
#include "kernels/kernel_args.h"
#include "kernels/rope.cuh"

namespace tierkv::kernels {
namespace {

constexpr int kThreads = 256;

// One thread per (token, head, pair). The angle is formed and reduced in
// double, as the reference (and ggml's rope cache) does: in float, positions in
// the tens of thousands lose the low bits of the angle and the rotation drifts.
__global__ void RopeKernel(float* x, const int32_t* __restrict__ positions, int n_heads,
                           int head_dim, int row_stride, int rot_dim, double log2_base,
                           int64_t n_items) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (item >= n_items) return;
  const int n_pairs = rot_dim / 2;
  const int pair = static_cast<int>(item % n_pairs);
  const int64_t head_token = item / n_pairs;
  const int head = static_cast<int>(head_token % n_heads);
  const int64_t token = head_token / n_heads;
  const double inv_freq = exp2(-2.0 * pair / rot_dim * log2_base);
  double s, c;
  sincos(static_cast<double>(positions[token]) * inv_freq, &s, &c);
  const float cos_t = static_cast<float>(c);
  const float sin_t = static_cast<float>(s);
  float* p = x + token * row_stride + static_cast<int64_t>(head) * head_dim + 2 * pair;
  const float x0 = p[0];
  const float x1 = p[1];
  p[0] = x0 * cos_t - x1 * sin_t;
  p[1] = x0 * sin_t + x1 * cos_t;
}

}  // namespace

Status RopeCuda(float* x, const int32_t* positions, int n_tokens, int n_heads, int head_dim,
                int row_stride, int rot_dim, float freq_base, cudaStream_t stream) {
  TIERKV_RETURN_IF_ERROR(
      CheckRopeArgs(n_tokens, n_heads, head_dim, row_stride, rot_dim, freq_base));
  if (n_tokens == 0) return Status::Ok();
  if (x == nullptr || positions == nullptr) return Status::InvalidArgument("rope: null pointer");
  const int64_t n_items = static_cast<int64_t>(n_tokens) * n_heads * (rot_dim / 2);
  const int64_t blocks = (n_items + kThreads - 1) / kThreads;
  RopeKernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      x, positions, n_heads, head_dim, row_stride, rot_dim,
      std::log2(static_cast<double>(freq_base)), n_items);
  return LaunchStatus("RopeKernel");
}

}  // namespace tierkv::kernels
