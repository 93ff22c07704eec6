#include "kernels/cuda_util.h"
#include "kernels/kernel_args.h"
#include "kernels/rope.cuh"
#include "kernels/rope_ref.h"

namespace tierkv::kernels {
namespace {

constexpr int kThreads = 256;

// One thread per (token, head, pair). The angle follows RopeRef's float
// recurrence step by step (pos, then one rounded multiply by theta_scale per
// pair: __fmul_rn keeps each step a plain multiply), so both reach the same
// float angle at any position; cosf/sinf then differ from the host's by an
// ulp or two at most.
__global__ void RopeKernel(float* x, const int32_t* __restrict__ positions, int n_heads,
                           int head_dim, int row_stride, int rot_dim, float theta_scale,
                           int64_t n_items) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (item >= n_items) return;
  const int n_pairs = rot_dim / 2;
  const int pair = static_cast<int>(item % n_pairs);
  const int64_t head_token = item / n_pairs;
  const int head = static_cast<int>(head_token % n_heads);
  const int64_t token = head_token / n_heads;
  float theta = static_cast<float>(positions[token]);
  for (int i = 0; i < pair; ++i) theta = __fmul_rn(theta, theta_scale);
  float sin_t, cos_t;
  sincosf(theta, &sin_t, &cos_t);
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
      RopeThetaScale(freq_base, rot_dim), n_items);
  return LaunchStatus("RopeKernel");
}

}  // namespace tierkv::kernels
