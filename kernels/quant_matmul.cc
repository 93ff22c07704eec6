#include "kernels/quant_matmul.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/parallel_for.h"
#include "kernels/quant_dot_avx2.h"
#include "kernels/quant_ref.h"

namespace tierkv::kernels {
namespace {

// Weight rows per task: a multiple of the 8-row Q4_0 group, small enough to
// stay in L2 while every activation row passes over them.
constexpr int kRowsPerTask = 64;
// Activation rows quantized per task.
constexpr int kActivationRowsPerTask = 16;

}  // namespace

std::string_view QuantPathName(QuantPath path) {
  switch (path) {
    case QuantPath::kScalar:
      return "scalar";
    case QuantPath::kAvx2:
      return "avx2";
  }
  return "unknown";
}

QuantPath ChooseQuantPath(const CpuFeatures& cpu) {
  return cpu.has_avx2_fma() ? QuantPath::kAvx2 : QuantPath::kScalar;
}

QuantPath HostQuantPath() {
  static const QuantPath path = ChooseQuantPath(HostCpuFeatures());
  return path;
}

QuantType ActivationTypeFor(QuantType weights) {
  return weights == QuantType::kQ8_0 || weights == QuantType::kQ4_0 ? QuantType::kQ8_0
                                                                    : QuantType::kQ8K;
}

QuantDotRowsFn QuantDotKernel(QuantType weights, QuantPath path) {
  const bool avx2 = path == QuantPath::kAvx2;
  switch (weights) {
    case QuantType::kQ8_0:
      return avx2 ? DotRowsQ8_0Avx2 : DotRowsQ8_0Ref;
    case QuantType::kQ4_0:
      return avx2 ? DotRowsQ4_0Avx2 : DotRowsQ4_0Ref;
    case QuantType::kQ4K:
      return avx2 ? DotRowsQ4KAvx2 : DotRowsQ4KRef;
    case QuantType::kQ6K:
      return avx2 ? DotRowsQ6KAvx2 : DotRowsQ6KRef;
    case QuantType::kQ8K:
      break;
  }
  return nullptr;
}

void QuantMatMul(QuantType weights, const void* w, const float* x, int ldx, float* y, int ldy,
                 int m, int n, int k, bool accumulate) {
  const QuantType act = ActivationTypeFor(weights);
  const size_t act_row_bytes = QuantRowBytes(act, k);
  const size_t w_row_bytes = QuantRowBytes(weights, k);
  const int blocks = k / QuantBlockValues(weights);
  thread_local std::vector<std::byte> scratch;
  if (scratch.size() < act_row_bytes * m) scratch.resize(act_row_bytes * m);
  std::byte* xq = scratch.data();

  const int quant_tasks = (m + kActivationRowsPerTask - 1) / kActivationRowsPerTask;
  ParallelFor(quant_tasks, [&](int t) {
    const int end = std::min(m, (t + 1) * kActivationRowsPerTask);
    for (int i = t * kActivationRowsPerTask; i < end; ++i) {
      QuantizeRowRef(act, x + static_cast<int64_t>(i) * ldx, xq + i * act_row_bytes, k);
    }
  });

  const QuantDotRowsFn dot = QuantDotKernel(weights, HostQuantPath());
  const int tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  ParallelFor(tasks, [&](int t) {
    const int r0 = t * kRowsPerTask;
    const int rows = std::min(n, r0 + kRowsPerTask) - r0;
    const std::byte* wt = static_cast<const std::byte*>(w) + r0 * w_row_bytes;
    float out[kRowsPerTask];
    for (int i = 0; i < m; ++i) {
      dot(wt, w_row_bytes, rows, xq + i * act_row_bytes, blocks, out);
      float* yi = y + static_cast<int64_t>(i) * ldy + r0;
      for (int r = 0; r < rows; ++r) yi[r] = accumulate ? yi[r] + out[r] : out[r];
    }
  });
}

}  // namespace tierkv::kernels
