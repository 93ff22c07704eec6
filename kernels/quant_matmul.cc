#include "kernels/quant_matmul.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/parallel_for.h"
#include "kernels/quant_dot_avx2.h"
#include "kernels/quant_ref.h"
#include "kernels/quant_repack.h"

namespace tierkv::kernels {
namespace {

// Weight rows per task: a multiple of the 8-row Q4_0 group (kQ4_0GroupRows),
// small enough to stay in L2 while every activation row passes over them.
constexpr int kRowsPerTask = 64;
// Activation rows quantized per task.
constexpr int kActivationRowsPerTask = 16;
// Activation rows of one kernel call, which reuses each unpacked weight row for all of them.
constexpr int kActivationRowsPerTile = 4;

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

QuantDotFn QuantDotKernel(QuantType type, bool grouped, QuantPath path) {
  const bool avx2 = path == QuantPath::kAvx2;
  switch (type) {
    case QuantType::kQ8_0:
      return avx2 ? DotQ8_0Avx2 : DotQ8_0Ref;
    case QuantType::kQ4_0:
      if (grouped) return avx2 ? DotQ4_0x8Avx2 : DotQ4_0x8Ref;
      return avx2 ? DotQ4_0Avx2 : DotQ4_0Ref;
    case QuantType::kQ4K:
      return avx2 ? DotQ4KAvx2 : DotQ4KRef;
    case QuantType::kQ6K:
      return avx2 ? DotQ6KAvx2 : DotQ6KRef;
    case QuantType::kQ8K:
      break;
  }
  return nullptr;
}

void QuantMatMul(const QuantWeights& w, const float* x, int ldx, float* y, int ldy, int m,
                 bool accumulate) {
  const int n = w.rows, k = w.cols;
  const QuantType act = ActivationTypeFor(w.type);
  const size_t act_row_bytes = QuantRowBytes(act, k);
  const size_t w_row_bytes = QuantRowBytes(w.type, k);
  const int blocks = k / QuantBlockValues(w.type);
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

  const QuantDotFn dot = QuantDotKernel(w.type, w.grouped, HostQuantPath());
  const int tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  ParallelFor(tasks, [&](int t) {
    const int r0 = t * kRowsPerTask;
    QuantDotTile tile;
    tile.w = static_cast<const std::byte*>(w.data) + r0 * w_row_bytes;
    tile.w_row_bytes = w_row_bytes;
    tile.rows = std::min(n, r0 + kRowsPerTask) - r0;
    tile.a_row_bytes = act_row_bytes;
    tile.blocks = blocks;
    tile.ld_out = kRowsPerTask;
    float out[kActivationRowsPerTile * kRowsPerTask];
    tile.out = out;
    for (int i0 = 0; i0 < m; i0 += kActivationRowsPerTile) {
      tile.a = xq + i0 * act_row_bytes;
      tile.a_rows = std::min(m - i0, kActivationRowsPerTile);
      dot(tile);
      for (int i = 0; i < tile.a_rows; ++i) {
        float* yi = y + static_cast<int64_t>(i0 + i) * ldy + r0;
        const float* oi = out + i * kRowsPerTask;
        for (int r = 0; r < tile.rows; ++r) yi[r] = accumulate ? yi[r] + oi[r] : oi[r];
      }
    }
  });
}

}  // namespace tierkv::kernels
