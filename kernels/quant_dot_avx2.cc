#include "kernels/quant_dot_avx2.h"

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant_blocks.h"
#include "kernels/quant_dot_ref.h"
#include "kernels/quant_repack.h"

// Each kernel keeps the reference's integer partial sums in the same 32-bit
// lanes and turns them into floats in the same order (see quant_dot_ref.h);
// integer sums are exact however they are formed, which leaves room for the
// tricks below. maddubs multiplies unsigned by signed bytes into saturating
// 16-bit pair sums; no pair here can reach 2^15.

namespace tierkv::kernels {
namespace {

constexpr int kQ4_0RowGroup = 8;  // Q4_0 rows done together, one per float lane
constexpr int kQ4_0Offset = 8;

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// ggml's hsum_float_8.
inline float SumLanes(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// Pairs of 16-bit lanes summed into 32-bit lanes.
inline __m256i SumPairs(__m256i v) { return _mm256_madd_epi16(v, _mm256_set1_epi16(1)); }

inline __m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 16 bytes of packed nibbles: low nibbles in bytes 0..15, high in 16..31.
inline __m256i Nibbles(const uint8_t* p) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

template <typename Block>
const Block* Row(const void* w, size_t row_bytes, int r) {
  return reinterpret_cast<const Block*>(static_cast<const std::byte*>(w) + r * row_bytes);
}

float DotQ8_0(const BlockQ8_0* w, const BlockQ8_0* a, int blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const __m256 d = _mm256_set1_ps(HalfToFloat(w[b].d) * HalfToFloat(a[b].d));
    const __m256i x = Load256(w[b].qs);
    const __m256i y = Load256(a[b].qs);
    // |x| * (y with x's sign) = x * y, with the unsigned operand maddubs wants.
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(SumPairs(p)), acc);
  }
  return SumLanes(acc);
}

// Sums of lanes: out lane r = sum of the 8 lanes of v[r].
inline __m256i SumEachOf8(const __m256i (&v)[8]) {
  const __m256i h01 = _mm256_hadd_epi32(v[0], v[1]);
  const __m256i h23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i h45 = _mm256_hadd_epi32(v[4], v[5]);
  const __m256i h67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23);  // rows 0-3: low half + high half
  const __m256i h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                          _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

// 8 * sum(y) of one activation block, in every lane.
inline __m256i EightTimesSum(__m256i y) {
  const __m256i pairs = SumPairs(_mm256_maddubs_epi16(_mm256_set1_epi8(1), y));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm256_set1_epi32(kQ4_0Offset * _mm_cvtsi128_si32(s));
}

// Eight Q4_0 rows (one per float lane) against up to kMaxActivationRows
// activation rows, each unpacked weight block used for all of them. Block
// sums of (q - 8) * y are taken as q * y - 8 * sum(y).
void DotQ4_0Rows8(const QuantDotTile& t, int r0) {
  constexpr int kMaxActivationRows = 4;
  const BlockQ4_0* rows[kQ4_0RowGroup];
  for (int r = 0; r < kQ4_0RowGroup; ++r) rows[r] = Row<BlockQ4_0>(t.w, t.w_row_bytes, r0 + r);
  const BlockQ8_0* acts[kMaxActivationRows];
  const int a_rows = t.a_rows < kMaxActivationRows ? t.a_rows : kMaxActivationRows;
  for (int i = 0; i < a_rows; ++i) acts[i] = Row<BlockQ8_0>(t.a, t.a_row_bytes, i);
  __m256 acc[kMaxActivationRows];
  for (__m256& v : acc) v = _mm256_setzero_ps();
  for (int b = 0; b < t.blocks; ++b) {
    __m256i nibbles[kQ4_0RowGroup];
    for (int r = 0; r < kQ4_0RowGroup; ++r) nibbles[r] = Nibbles(rows[r][b].qs);
    // The 8 rows' scales, gathered in registers (a store and a wide reload would stall).
    const __m256 dw = _mm256_cvtph_ps(
        _mm_set_epi16(static_cast<int16_t>(rows[7][b].d), static_cast<int16_t>(rows[6][b].d),
                      static_cast<int16_t>(rows[5][b].d), static_cast<int16_t>(rows[4][b].d),
                      static_cast<int16_t>(rows[3][b].d), static_cast<int16_t>(rows[2][b].d),
                      static_cast<int16_t>(rows[1][b].d), static_cast<int16_t>(rows[0][b].d)));
    for (int i = 0; i < a_rows; ++i) {
      const __m256i y = Load256(acts[i][b].qs);
      __m256i partial[kQ4_0RowGroup];
      for (int r = 0; r < kQ4_0RowGroup; ++r) {
        partial[r] = SumPairs(_mm256_maddubs_epi16(nibbles[r], y));
      }
      const __m256i sums = _mm256_sub_epi32(SumEachOf8(partial), EightTimesSum(y));
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(HalfToFloat(acts[i][b].d)));
      acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc[i]);
    }
  }
  for (int i = 0; i < a_rows; ++i) {
    _mm256_storeu_ps(t.out + static_cast<size_t>(i) * t.ld_out + r0, acc[i]);
  }
}

// Regrouped Q4_0 (quant_repack.h): one group of 8 rows, one per lane,
// against up to kMaxActivationRows activation rows. Every 4 bytes of a lane
// meet the same 4 activation bytes; the pair sums of one block (at most
// 8 * 2 * 15 * 127 = 30480) fit 16 bits before one widening.
void DotQ4_0Group(const BlockQ4_0x8* w, const QuantDotTile& t, float* out) {
  constexpr int kMaxActivationRows = 4;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const BlockQ8_0* acts[kMaxActivationRows];
  const int a_rows = t.a_rows < kMaxActivationRows ? t.a_rows : kMaxActivationRows;
  for (int i = 0; i < a_rows; ++i) acts[i] = Row<BlockQ8_0>(t.a, t.a_row_bytes, i);
  __m256 acc[kMaxActivationRows];
  for (__m256& v : acc) v = _mm256_setzero_ps();
  for (int b = 0; b < t.blocks; ++b) {
    __m256i lo[kQ4_0GroupChunks], hi[kQ4_0GroupChunks];
    for (int c = 0; c < kQ4_0GroupChunks; ++c) {
      const __m256i bytes = Load256(w[b].qs[c]);
      lo[c] = _mm256_and_si256(bytes, low4);
      hi[c] = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4);
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].d)));
    for (int i = 0; i < a_rows; ++i) {
      const int8_t* y = acts[i][b].qs;
      auto four = [&](int at) {
        int32_t v;
        std::memcpy(&v, y + at, 4);
        return _mm256_set1_epi32(v);
      };
      __m256i pairs = _mm256_maddubs_epi16(lo[0], four(0));
      for (int c = 1; c < kQ4_0GroupChunks; ++c) {
        pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(lo[c], four(4 * c)));
      }
      for (int c = 0; c < kQ4_0GroupChunks; ++c) {
        pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(hi[c], four(16 + 4 * c)));
      }
      const __m256i sums = _mm256_sub_epi32(SumPairs(pairs), EightTimesSum(Load256(y)));
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(HalfToFloat(acts[i][b].d)));
      acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc[i]);
    }
  }
  for (int i = 0; i < a_rows; ++i)
    _mm256_storeu_ps(out + static_cast<size_t>(i) * t.ld_out, acc[i]);
}

// A Q4_K block's 6-bit scales (bytes 0..7) and mins (bytes 8..15), from its
// 12 packed bytes (see Q4KScaleMin).
inline __m128i Q4KScalesAndMins(const uint8_t* packed) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t w[3];
  std::memcpy(w, packed, sizeof(w));
  const uint32_t scales_lo = w[0] & kLow6;                                        // sc 0..3
  const uint32_t scales_hi = (w[2] & kLow4) | (((w[0] >> 6) & kLow2) << 4);       // sc 4..7
  const uint32_t mins_lo = w[1] & kLow6;                                          // m 0..3
  const uint32_t mins_hi = ((w[2] >> 4) & kLow4) | (((w[1] >> 6) & kLow2) << 4);  // m 4..7
  return _mm_set_epi32(static_cast<int>(mins_hi), static_cast<int>(mins_lo),
                       static_cast<int>(scales_hi), static_cast<int>(scales_lo));
}

float DotQ4K(const BlockQ4K* w, const BlockQ8K* a, int blocks) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_min = _mm_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const float d = a[b].d * HalfToFloat(w[b].d);
    const float dmin = -a[b].d * HalfToFloat(w[b].dmin);
    const __m256i scales_mins = _mm256_cvtepu8_epi16(Q4KScalesAndMins(w[b].scales));
    // Mins: activation sums per 32 values (pairs of bsums) times the mins.
    const __m256i bsums = Load256(a[b].bsums);
    const __m128i sums32 =
        _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
    const __m128i min_prod = _mm_madd_epi16(_mm256_extracti128_si256(scales_mins, 1), sums32);
    acc_min = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(min_prod), acc_min);

    alignas(16) uint16_t scales[kQ4KSubBlocks];
    _mm_store_si128(reinterpret_cast<__m128i*>(scales), _mm256_castsi256_si128(scales_mins));
    const uint8_t* q = w[b].qs;
    const int8_t* y = a[b].qs;
    __m256i sum = _mm256_setzero_si256();
    for (int p = 0; p < kKBlockValues / 64; ++p, q += 32, y += 64) {
      const __m256i bits = Load256(q);
      const __m256i lo = _mm256_and_si256(bits, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), low4);
      const auto s0 = static_cast<int16_t>(scales[2 * p]);
      const auto s1 = static_cast<int16_t>(scales[2 * p + 1]);
      const __m256i p_lo =
          _mm256_madd_epi16(_mm256_set1_epi16(s0), _mm256_maddubs_epi16(lo, Load256(y)));
      const __m256i p_hi =
          _mm256_madd_epi16(_mm256_set1_epi16(s1), _mm256_maddubs_epi16(hi, Load256(y + 32)));
      sum = _mm256_add_epi32(sum, _mm256_add_epi32(p_lo, p_hi));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
  }
  __m128 m = _mm_add_ps(acc_min, _mm_movehl_ps(acc_min, acc_min));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return SumLanes(acc) + _mm_cvtss_f32(m);
}

float DotQ6K(const BlockQ6K* w, const BlockQ8K* a, int blocks) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i low2 = _mm256_set1_epi8(0x03);
  const __m256i offset = _mm256_set1_epi8(32);
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < blocks; ++b) {
    const float d = a[b].d * HalfToFloat(w[b].d);
    __m256i sum = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = Load256(w[b].ql + 64 * h);
      const __m256i ql1 = Load256(w[b].ql + 64 * h + 32);
      const __m256i qh = Load256(w[b].qh + 32 * h);
      // Quants of the four 32-value groups g of this half, in [0, 64).
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, low4),
                          _mm256_slli_epi16(_mm256_and_si256(qh, low2), 4)),
          _mm256_or_si256(_mm256_and_si256(ql1, low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), low2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), low2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), low2), 4)),
      };
      for (int g = 0; g < 4; ++g) {
        const __m256i y = Load256(a[b].qs + 128 * h + 32 * g);
        // (q - 32) * y pairs as q * y - 32 * y.
        const __m256i pairs =
            _mm256_sub_epi16(_mm256_maddubs_epi16(q[g], y), _mm256_maddubs_epi16(offset, y));
        // Scales of the group's two 16-value halves, for 8 lanes each.
        const int8_t* sc = w[b].scales + 8 * h + 2 * g;
        const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(sc[1]), _mm_set1_epi16(sc[0]));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(scale, pairs));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
  }
  return SumLanes(acc);
}

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

void DotQ8_0Avx2(const QuantDotTile& t) { EachPair<BlockQ8_0, BlockQ8_0>(t, DotQ8_0); }

void DotQ4_0Avx2(const QuantDotTile& t) {
  constexpr int kMaxActivationRows = 4;
  for (int i0 = 0; i0 < t.a_rows; i0 += kMaxActivationRows) {
    QuantDotTile part = t;
    part.a = static_cast<const std::byte*>(t.a) + i0 * t.a_row_bytes;
    part.a_rows = t.a_rows - i0 < kMaxActivationRows ? t.a_rows - i0 : kMaxActivationRows;
    part.out = t.out + static_cast<size_t>(i0) * t.ld_out;
    int r = 0;
    for (; r + kQ4_0RowGroup <= t.rows; r += kQ4_0RowGroup) DotQ4_0Rows8(part, r);
    if (r < t.rows) {  // the last rows, one at a time
      part.w = static_cast<const std::byte*>(t.w) + r * t.w_row_bytes;
      part.rows = t.rows - r;
      part.out += r;
      DotQ4_0Ref(part);
    }
  }
}

void DotQ4_0x8Avx2(const QuantDotTile& t) {
  constexpr int kMaxActivationRows = 4;
  for (int i0 = 0; i0 < t.a_rows; i0 += kMaxActivationRows) {
    QuantDotTile part = t;
    part.a = static_cast<const std::byte*>(t.a) + i0 * t.a_row_bytes;
    part.a_rows = t.a_rows - i0 < kMaxActivationRows ? t.a_rows - i0 : kMaxActivationRows;
    for (int r = 0; r < t.rows; r += kQ4_0GroupRows) {
      const auto* group = reinterpret_cast<const BlockQ4_0x8*>(static_cast<const std::byte*>(t.w) +
                                                               r * t.w_row_bytes);
      DotQ4_0Group(group, part, t.out + static_cast<size_t>(i0) * t.ld_out + r);
    }
  }
}

void DotQ4KAvx2(const QuantDotTile& t) { EachPair<BlockQ4K, BlockQ8K>(t, DotQ4K); }
void DotQ6KAvx2(const QuantDotTile& t) { EachPair<BlockQ6K, BlockQ8K>(t, DotQ6K); }

}  // namespace tierkv::kernels
