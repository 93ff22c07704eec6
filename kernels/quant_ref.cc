#include "kernels/quant_ref.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>

#include "kernels/half.h"

// This file is compiled with -ffp-contract=off: every rounding step below is
// the one ggml's arithmetic takes, and a fused multiply-add would skip one.

namespace tierkv::kernels {
namespace {

constexpr float kQ8Max = 127.0f;
constexpr int kQ4_0Offset = 8;  // Q4_0 nibbles hold q + 8, q in [-8, 7]
constexpr int kQ4_0Min = -8;
constexpr int kQ4_0Max = 7;
constexpr int kQ4KMax = 15;       // Q4_K quants in [0, 15]
constexpr int kQ4KScaleMax = 63;  // 6-bit sub-block scales and mins
constexpr int kQ6KOffset = 32;    // Q6_K stores q + 32, q in [-32, 31]
constexpr int kQ6KMin = -32;
constexpr int kQ6KMax = 31;
constexpr int kQ6KSubValues = kKBlockValues / kQ6KSubBlocks;  // 16
constexpr int kQ4KSubValues = kKBlockValues / kQ4KSubBlocks;  // 32
constexpr int kQ8KSumValues = kKBlockValues / kQ8KSumGroups;  // 16

// Scale search of the weight quantizers: candidates between the scale that
// maps the largest magnitude onto the widest quant and kScaleSearchSpan
// quant steps inside it, then one least-squares refit.
constexpr int kScaleSearchSteps = 12;
constexpr float kScaleSearchSpan = 1.2f;
// Alternating refits of (scale, min) for a Q4_K sub-block.
constexpr int kMinScaleRefits = 4;

// Round half to even, as ggml's nearest_int (and _mm256_round_ps) do; |v| < 2^22.
inline int NearestInt(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: the sum's low mantissa bits hold round(v)
  const float shifted = v + kMagic;
  return (std::bit_cast<int32_t>(shifted) & 0x007fffff) - 0x00400000;
}

// The x of largest magnitude (the first, on ties) and that magnitude.
inline void SignedMax(const float* x, int n, float* max, float* amax) {
  *max = 0.0f;
  *amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > *amax) {
      *amax = a;
      *max = x[i];
    }
  }
}

// Squared error of x ~ d * clamp(round(x / d), qmin, qmax).
float SymmetricError(const float* x, int n, float d, int qmin, int qmax) {
  const float id = 1.0f / d;
  float err = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int q = std::clamp(NearestInt(x[i] * id), qmin, qmax);
    const float e = x[i] - d * static_cast<float>(q);
    err += e * e;
  }
  return err;
}

// The scale d for x ~ d * q, q in [qmin, qmax] (qmin < 0 < qmax, |qmin| >
// qmax), with the least squared error among the searched candidates. The
// value of largest magnitude goes to the qmin side, which reaches further.
float BestSymmetricScale(const float* x, int n, int qmin, int qmax) {
  float max = 0.0f, amax = 0.0f;
  SignedMax(x, n, &max, &amax);
  if (amax == 0.0f) return 0.0f;
  float best_d = max / static_cast<float>(qmin);
  float best_err = SymmetricError(x, n, best_d, qmin, qmax);
  for (int s = 1; s <= kScaleSearchSteps; ++s) {
    const float target = static_cast<float>(qmin) + kScaleSearchSpan * s / kScaleSearchSteps;
    const float d = max / target;
    const float err = SymmetricError(x, n, d, qmin, qmax);
    if (err < best_err) {
      best_err = err;
      best_d = d;
    }
  }
  // Least-squares scale for the chosen quants.
  const float id = 1.0f / best_d;
  float sum_xq = 0.0f, sum_qq = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float q = static_cast<float>(std::clamp(NearestInt(x[i] * id), qmin, qmax));
    sum_xq += x[i] * q;
    sum_qq += q * q;
  }
  if (sum_qq > 0.0f) {
    const float d = sum_xq / sum_qq;
    if (d != 0.0f && SymmetricError(x, n, d, qmin, qmax) < best_err) best_d = d;
  }
  return best_d;
}

// x ~ scale * q - min with q in [0, 15], scale >= 0, min >= 0 (so the
// represented minimum -min is never above zero, as Q4_K requires). Starts
// from the range and refits (scale, min) by least squares a few times.
void FitScaleMin(const float* x, int n, float* scale, float* min) {
  float lo = 0.0f, hi = x[0];
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  *min = -lo;
  *scale = hi > lo ? (hi - lo) / kQ4KMax : 0.0f;
  if (*scale == 0.0f) return;
  auto error = [&](float a, float b) {
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int q = std::clamp(NearestInt((x[i] + b) / a), 0, kQ4KMax);
      const float e = x[i] - (a * static_cast<float>(q) - b);
      err += e * e;
    }
    return err;
  };
  float best_err = error(*scale, *min);
  float a = *scale, b = *min;
  for (int it = 0; it < kMinScaleRefits; ++it) {
    float sq = 0.0f, sqq = 0.0f, sx = 0.0f, sqx = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float q = static_cast<float>(std::clamp(NearestInt((x[i] + b) / a), 0, kQ4KMax));
      sq += q;
      sqq += q * q;
      sx += x[i];
      sqx += q * x[i];
    }
    // Solve [sqq sq; sq n] [a; -b] = [sqx; sx].
    const float det = sqq * static_cast<float>(n) - sq * sq;
    if (det <= 0.0f) break;
    float na = (sqx * static_cast<float>(n) - sq * sx) / det;
    float nb = -(sqq * sx - sq * sqx) / det;
    if (nb < 0.0f) {  // the minimum may not rise above zero
      nb = 0.0f;
      na = sqq > 0.0f ? sqx / sqq : 0.0f;
    }
    if (na <= 0.0f) break;
    const float err = error(na, nb);
    if (err >= best_err) break;
    best_err = err;
    a = na;
    b = nb;
  }
  *scale = a;
  *min = b;
}

}  // namespace

void QuantizeRowQ8_0Ref(const float* x, BlockQ8_0* y, int64_t k) {
  assert(k % kQ8_0BlockValues == 0);
  for (int64_t b = 0; b < k / kQ8_0BlockValues; ++b, x += kQ8_0BlockValues) {
    float amax = 0.0f;
    for (int i = 0; i < kQ8_0BlockValues; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / kQ8Max;
    const float id = amax != 0.0f ? kQ8Max / amax : 0.0f;
    y[b].d = F32ToF16(d);
    for (int i = 0; i < kQ8_0BlockValues; ++i) {
      y[b].qs[i] = static_cast<int8_t>(NearestInt(x[i] * id));
    }
  }
}

void QuantizeRowQ8KRef(const float* x, BlockQ8K* y, int64_t k) {
  assert(k % kKBlockValues == 0);
  for (int64_t b = 0; b < k / kKBlockValues; ++b, x += kKBlockValues) {
    float max = 0.0f, amax = 0.0f;
    SignedMax(x, kKBlockValues, &max, &amax);
    BlockQ8K& out = y[b];
    if (amax == 0.0f) {
      std::memset(&out, 0, sizeof(out));
      continue;
    }
    const float iscale = -kQ8Max / max;
    for (int i = 0; i < kKBlockValues; ++i) {
      out.qs[i] = static_cast<int8_t>(std::min(127, NearestInt(iscale * x[i])));
    }
    for (int g = 0; g < kQ8KSumGroups; ++g) {
      int sum = 0;
      for (int i = 0; i < kQ8KSumValues; ++i) sum += out.qs[g * kQ8KSumValues + i];
      out.bsums[g] = static_cast<int16_t>(sum);
    }
    out.d = 1.0f / iscale;
  }
}

void QuantizeRowQ4_0Ref(const float* x, BlockQ4_0* y, int64_t k) {
  assert(k % kQ4_0BlockValues == 0);
  for (int64_t b = 0; b < k / kQ4_0BlockValues; ++b, x += kQ4_0BlockValues) {
    const float d = BestSymmetricScale(x, kQ4_0BlockValues, kQ4_0Min, kQ4_0Max);
    y[b].d = F32ToF16(d);
    const float stored = F16ToF32(y[b].d);
    const float id = stored != 0.0f ? 1.0f / stored : 0.0f;
    constexpr int kHalf = kQ4_0BlockValues / 2;
    for (int i = 0; i < kHalf; ++i) {
      const int lo = std::clamp(NearestInt(x[i] * id), kQ4_0Min, kQ4_0Max) + kQ4_0Offset;
      const int hi = std::clamp(NearestInt(x[i + kHalf] * id), kQ4_0Min, kQ4_0Max) + kQ4_0Offset;
      y[b].qs[i] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void QuantizeRowQ4KRef(const float* x, BlockQ4K* y, int64_t k) {
  assert(k % kKBlockValues == 0);
  for (int64_t b = 0; b < k / kKBlockValues; ++b, x += kKBlockValues) {
    float scales[kQ4KSubBlocks], mins[kQ4KSubBlocks];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < kQ4KSubBlocks; ++j) {
      FitScaleMin(x + j * kQ4KSubValues, kQ4KSubValues, &scales[j], &mins[j]);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    BlockQ4K& out = y[b];
    std::memset(&out, 0, sizeof(out));
    out.d = F32ToF16(max_scale / kQ4KScaleMax);
    out.dmin = F32ToF16(max_min / kQ4KScaleMax);
    const float d = F16ToF32(out.d), dmin = F16ToF32(out.dmin);
    uint8_t sc[kQ4KSubBlocks], mn[kQ4KSubBlocks];
    for (int j = 0; j < kQ4KSubBlocks; ++j) {
      sc[j] = d > 0.0f
                  ? static_cast<uint8_t>(std::clamp(NearestInt(scales[j] / d), 0, kQ4KScaleMax))
                  : 0;
      mn[j] = dmin > 0.0f
                  ? static_cast<uint8_t>(std::clamp(NearestInt(mins[j] / dmin), 0, kQ4KScaleMax))
                  : 0;
    }
    for (int j = 0; j < 4; ++j) {
      out.scales[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
      out.scales[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
      out.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
    uint8_t q[kKBlockValues];
    for (int j = 0; j < kQ4KSubBlocks; ++j) {
      const float a = d * static_cast<float>(sc[j]);
      const float m = dmin * static_cast<float>(mn[j]);
      for (int i = 0; i < kQ4KSubValues; ++i) {
        const int v = j * kQ4KSubValues + i;
        q[v] =
            a > 0.0f ? static_cast<uint8_t>(std::clamp(NearestInt((x[v] + m) / a), 0, kQ4KMax)) : 0;
      }
    }
    for (int p = 0; p < kKBlockValues / 64; ++p) {
      for (int l = 0; l < 32; ++l) {
        out.qs[32 * p + l] = static_cast<uint8_t>(q[64 * p + l] | (q[64 * p + 32 + l] << 4));
      }
    }
  }
}

void QuantizeRowQ6KRef(const float* x, BlockQ6K* y, int64_t k) {
  assert(k % kKBlockValues == 0);
  for (int64_t b = 0; b < k / kKBlockValues; ++b, x += kKBlockValues) {
    float scales[kQ6KSubBlocks];
    float max_abs = 0.0f;
    for (int j = 0; j < kQ6KSubBlocks; ++j) {
      scales[j] = BestSymmetricScale(x + j * kQ6KSubValues, kQ6KSubValues, kQ6KMin, kQ6KMax);
      max_abs = std::max(max_abs, std::fabs(scales[j]));
    }
    BlockQ6K& out = y[b];
    std::memset(&out, 0, sizeof(out));
    out.d = F32ToF16(max_abs / kQ8Max);
    const float d = F16ToF32(out.d);
    uint8_t q[kKBlockValues];
    for (int j = 0; j < kQ6KSubBlocks; ++j) {
      const int sc = d > 0.0f ? std::clamp(NearestInt(scales[j] / d), -127, 127) : 0;
      out.scales[j] = static_cast<int8_t>(sc);
      const float e = d * static_cast<float>(sc);
      for (int i = 0; i < kQ6KSubValues; ++i) {
        const int v = j * kQ6KSubValues + i;
        const int qv = e != 0.0f ? std::clamp(NearestInt(x[v] / e), kQ6KMin, kQ6KMax) : 0;
        q[v] = static_cast<uint8_t>(qv + kQ6KOffset);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* L = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        out.ql[64 * h + l] = static_cast<uint8_t>((L[l] & 0xF) | ((L[l + 64] & 0xF) << 4));
        out.ql[64 * h + 32 + l] =
            static_cast<uint8_t>((L[l + 32] & 0xF) | ((L[l + 96] & 0xF) << 4));
        out.qh[32 * h + l] =
            static_cast<uint8_t>((L[l] >> 4) | ((L[l + 32] >> 4) << 2) | ((L[l + 64] >> 4) << 4) |
                                 ((L[l + 96] >> 4) << 6));
      }
    }
  }
}

void DequantizeRowQ8_0Ref(const BlockQ8_0* x, float* y, int64_t k) {
  for (int64_t b = 0; b < k / kQ8_0BlockValues; ++b) {
    const float d = F16ToF32(x[b].d);
    for (int i = 0; i < kQ8_0BlockValues; ++i) *y++ = static_cast<float>(x[b].qs[i]) * d;
  }
}

void DequantizeRowQ4_0Ref(const BlockQ4_0* x, float* y, int64_t k) {
  constexpr int kHalf = kQ4_0BlockValues / 2;
  for (int64_t b = 0; b < k / kQ4_0BlockValues; ++b, y += kQ4_0BlockValues) {
    const float d = F16ToF32(x[b].d);
    for (int i = 0; i < kHalf; ++i) {
      y[i] = static_cast<float>((x[b].qs[i] & 0xF) - kQ4_0Offset) * d;
      y[i + kHalf] = static_cast<float>((x[b].qs[i] >> 4) - kQ4_0Offset) * d;
    }
  }
}

void DequantizeRowQ4KRef(const BlockQ4K* x, float* y, int64_t k) {
  for (int64_t b = 0; b < k / kKBlockValues; ++b) {
    const float d = F16ToF32(x[b].d);
    const float dmin = F16ToF32(x[b].dmin);
    const uint8_t* q = x[b].qs;
    for (int p = 0; p < kKBlockValues / 64; ++p, q += 32) {
      uint8_t sc = 0, m = 0;
      Q4KScaleMin(x[b].scales, 2 * p, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      Q4KScaleMin(x[b].scales, 2 * p + 1, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void DequantizeRowQ6KRef(const BlockQ6K* x, float* y, int64_t k) {
  for (int64_t b = 0; b < k / kKBlockValues; ++b) {
    const float d = F16ToF32(x[b].d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      const int8_t* sc = x[b].scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - kQ6KOffset;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - kQ6KOffset;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - kQ6KOffset;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - kQ6KOffset;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void DequantizeRowQ8KRef(const BlockQ8K* x, float* y, int64_t k) {
  for (int64_t b = 0; b < k / kKBlockValues; ++b) {
    for (int i = 0; i < kKBlockValues; ++i) *y++ = x[b].d * static_cast<float>(x[b].qs[i]);
  }
}

void QuantizeRowRef(QuantType t, const float* x, void* blocks, int64_t k) {
  switch (t) {
    case QuantType::kQ8_0:
      return QuantizeRowQ8_0Ref(x, static_cast<BlockQ8_0*>(blocks), k);
    case QuantType::kQ4_0:
      return QuantizeRowQ4_0Ref(x, static_cast<BlockQ4_0*>(blocks), k);
    case QuantType::kQ4K:
      return QuantizeRowQ4KRef(x, static_cast<BlockQ4K*>(blocks), k);
    case QuantType::kQ6K:
      return QuantizeRowQ6KRef(x, static_cast<BlockQ6K*>(blocks), k);
    case QuantType::kQ8K:
      return QuantizeRowQ8KRef(x, static_cast<BlockQ8K*>(blocks), k);
  }
}

void DequantizeRowRef(QuantType t, const void* blocks, float* y, int64_t k) {
  switch (t) {
    case QuantType::kQ8_0:
      return DequantizeRowQ8_0Ref(static_cast<const BlockQ8_0*>(blocks), y, k);
    case QuantType::kQ4_0:
      return DequantizeRowQ4_0Ref(static_cast<const BlockQ4_0*>(blocks), y, k);
    case QuantType::kQ4K:
      return DequantizeRowQ4KRef(static_cast<const BlockQ4K*>(blocks), y, k);
    case QuantType::kQ6K:
      return DequantizeRowQ6KRef(static_cast<const BlockQ6K*>(blocks), y, k);
    case QuantType::kQ8K:
      return DequantizeRowQ8KRef(static_cast<const BlockQ8K*>(blocks), y, k);
  }
}

}  // namespace tierkv::kernels
