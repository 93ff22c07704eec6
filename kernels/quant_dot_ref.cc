#include "kernels/quant_dot_ref.h"

#include <cmath>
#include <cstdint>

#include "kernels/half.h"
#include "kernels/quant_blocks.h"

// Compiled with -ffp-contract=off: the only fused multiply-adds are the
// std::fma calls, where ggml's kernels have theirs.

namespace tierkv::kernels {
namespace {

constexpr int kLanes = 8;         // float lanes of one AVX2 register
constexpr int kLaneValues = 4;    // values summed into one 32-bit lane per 32-value group
constexpr int kGroupValues = 32;  // kLanes * kLaneValues
constexpr int kMinLanes = 4;      // Q4_K's min accumulators
constexpr int kQ4_0Offset = 8;
constexpr int kQ6KOffset = 32;

// ggml's hsum_float_8: (lo + hi) halves, then pairs.
float SumLanes(const float (&acc)[kLanes]) {
  const float r0 = acc[4] + acc[0], r1 = acc[5] + acc[1];
  const float r2 = acc[6] + acc[2], r3 = acc[7] + acc[3];
  return (r0 + r2) + (r1 + r3);
}

template <typename Block>
const Block* Row(const void* w, size_t row_bytes, int r) {
  return reinterpret_cast<const Block*>(static_cast<const std::byte*>(w) + r * row_bytes);
}

float DotQ8_0(const BlockQ8_0* w, const BlockQ8_0* a, int blocks) {
  float acc[kLanes] = {};
  for (int b = 0; b < blocks; ++b) {
    const float d = F16ToF32(w[b].d) * F16ToF32(a[b].d);
    for (int t = 0; t < kLanes; ++t) {
      int32_t sum = 0;
      for (int i = kLaneValues * t; i < kLaneValues * (t + 1); ++i) sum += w[b].qs[i] * a[b].qs[i];
      acc[t] = std::fma(d, static_cast<float>(sum), acc[t]);
    }
  }
  return SumLanes(acc);
}

float DotQ4_0(const BlockQ4_0* w, const BlockQ8_0* a, int blocks) {
  constexpr int kHalf = kQ4_0BlockValues / 2;
  float acc = 0.0f;
  for (int b = 0; b < blocks; ++b) {
    int32_t sum = 0;
    for (int i = 0; i < kHalf; ++i) {
      sum += ((w[b].qs[i] & 0xF) - kQ4_0Offset) * a[b].qs[i];
      sum += ((w[b].qs[i] >> 4) - kQ4_0Offset) * a[b].qs[i + kHalf];
    }
    acc = std::fma(static_cast<float>(sum), F16ToF32(w[b].d) * F16ToF32(a[b].d), acc);
  }
  return acc;
}

float DotQ4K(const BlockQ4K* w, const BlockQ8K* a, int blocks) {
  float acc[kLanes] = {};
  float acc_min[kMinLanes] = {};
  for (int b = 0; b < blocks; ++b) {
    const float d = a[b].d * F16ToF32(w[b].d);
    const float dmin = -a[b].d * F16ToF32(w[b].dmin);
    uint8_t sc[kQ4KSubBlocks], m[kQ4KSubBlocks];
    for (int j = 0; j < kQ4KSubBlocks; ++j) Q4KScaleMin(w[b].scales, j, &sc[j], &m[j]);

    for (int u = 0; u < kMinLanes; ++u) {
      int32_t prod = 0;
      for (int j = 2 * u; j < 2 * u + 2; ++j) {
        prod += m[j] * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
      }
      acc_min[u] = std::fma(dmin, static_cast<float>(prod), acc_min[u]);
    }
    int32_t sum[kLanes] = {};
    for (int j = 0; j < kQ4KSubBlocks; ++j) {
      const uint8_t* q = w[b].qs + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      const int8_t* y = a[b].qs + kGroupValues * j;
      for (int t = 0; t < kLanes; ++t) {
        int32_t s = 0;
        for (int i = kLaneValues * t; i < kLaneValues * (t + 1); ++i) {
          s += ((q[i] >> shift) & 0xF) * y[i];
        }
        sum[t] += sc[j] * s;
      }
    }
    for (int t = 0; t < kLanes; ++t) acc[t] = std::fma(d, static_cast<float>(sum[t]), acc[t]);
  }
  const float mins = (acc_min[0] + acc_min[2]) + (acc_min[1] + acc_min[3]);
  return SumLanes(acc) + mins;
}

// The 6-bit quant of value v (in [0, 256)) of a Q6_K block, minus its offset.
int Q6KQuant(const BlockQ6K& w, int v) {
  const int half = v / 128, g = (v % 128) / 32, l = v % 32;
  const uint8_t low = w.ql[64 * half + 32 * (g % 2) + l];
  const int low4 = g < 2 ? low & 0xF : low >> 4;
  const int high2 = (w.qh[32 * half + l] >> (2 * g)) & 3;
  return (low4 | (high2 << 4)) - kQ6KOffset;
}

float DotQ6K(const BlockQ6K* w, const BlockQ8K* a, int blocks) {
  constexpr int kScaleValues = kKBlockValues / kQ6KSubBlocks;
  float acc[kLanes] = {};
  for (int b = 0; b < blocks; ++b) {
    const float d = a[b].d * F16ToF32(w[b].d);
    int32_t sum[kLanes] = {};
    for (int v = 0; v < kKBlockValues; ++v) {
      const int lane = (v % kGroupValues) / kLaneValues;
      sum[lane] += w[b].scales[v / kScaleValues] * Q6KQuant(w[b], v) * a[b].qs[v];
    }
    for (int t = 0; t < kLanes; ++t) acc[t] = std::fma(d, static_cast<float>(sum[t]), acc[t]);
  }
  return SumLanes(acc);
}

}  // namespace

namespace {

// Every (activation row, weight row) pair of the tile through `dot`.
template <typename Weights, typename Acts>
void EachPair(const QuantDotTile& t, float (*dot)(const Weights*, const Acts*, int)) {
  for (int i = 0; i < t.a_rows; ++i) {
    const auto* a = Row<Acts>(t.a, t.a_row_bytes, i);
    for (int r = 0; r < t.rows; ++r) {
      t.out[static_cast<size_t>(i) * t.ld_out + r] =
          dot(Row<Weights>(t.w, t.w_row_bytes, r), a, t.blocks);
    }
  }
}

}  // namespace

void DotQ8_0Ref(const QuantDotTile& t) { EachPair<BlockQ8_0, BlockQ8_0>(t, DotQ8_0); }
void DotQ4_0Ref(const QuantDotTile& t) { EachPair<BlockQ4_0, BlockQ8_0>(t, DotQ4_0); }
void DotQ4KRef(const QuantDotTile& t) { EachPair<BlockQ4K, BlockQ8K>(t, DotQ4K); }
void DotQ6KRef(const QuantDotTile& t) { EachPair<BlockQ6K, BlockQ8K>(t, DotQ6K); }

}  // namespace tierkv::kernels
