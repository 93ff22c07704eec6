// Block layouts of ggml's quantized tensor types, byte for byte as ggml
// defines them (ggml-common.h), so that GGUF tensor data can be read in place.
//
// A quantized row of k values is k / kBlockValues consecutive blocks. Scales
// are IEEE half (uint16_t bit patterns) except in BlockQ8K, whose f32 scale
// never reaches a file: Q8_K exists only for activations in dot products.
//
//   type  values  bytes  value
//   Q8_0    32     34    d * qs[i]                      (qs int8)
//   Q4_0    32     18    d * (nibble(i) - 8)            (low nibbles hold 0..15, high 16..31)
//   Q4_K   256    144    d * sc[j] * q - dmin * m[j]    (8 sub-blocks of 32; 6-bit sc, m)
//   Q6_K   256    210    d * scales[j] * (q - 32)       (16 sub-blocks of 16; 6-bit q)
//   Q8_K   256    292    d * qs[i]                      (f32 d; bsums for Q4_K's mins)
#pragma once

#include <cstddef>
#include <cstdint>

namespace tierkv::kernels {

inline constexpr int kQ8_0BlockValues = 32;
inline constexpr int kQ4_0BlockValues = 32;
inline constexpr int kKBlockValues = 256;  // ggml's QK_K: every K-quant super-block
inline constexpr int kQ4KSubBlocks = 8;    // of 32 values
inline constexpr int kQ4KScaleBytes = 12;  // 8 six-bit scales and 8 six-bit mins, packed
inline constexpr int kQ6KSubBlocks = 16;   // of 16 values
inline constexpr int kQ8KSumGroups = 16;   // bsums: one per 16 values

struct BlockQ8_0 {
  uint16_t d;                   // f16 scale
  int8_t qs[kQ8_0BlockValues];  // quants
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
  uint16_t d;                        // f16 scale
  uint8_t qs[kQ4_0BlockValues / 2];  // byte j: value j in the low nibble, value j + 16 in the high
};
static_assert(sizeof(BlockQ4_0) == 18);

// Values 64 * p + l (l < 32) sit in the low nibbles of qs[32 * p + l], values
// 64 * p + 32 + l in the high nibbles: sub-blocks 2p and 2p + 1 share 32 bytes.
struct BlockQ4K {
  uint16_t d;                      // f16 super-block scale of the sub-block scales
  uint16_t dmin;                   // f16 super-block scale of the sub-block mins
  uint8_t scales[kQ4KScaleBytes];  // see Q4KScaleMin()
  uint8_t qs[kKBlockValues / 2];   // 4-bit quants
};
static_assert(sizeof(BlockQ4K) == 144);

// Per 128 values (two halves h of the block): value 128 * h + 32 * g + l
// (g < 4, l < 32) has its low 4 bits in ql[64 * h + l + 32 * (g & 1)] (low
// nibble for g < 2, high for g >= 2) and its high 2 bits in bits 2g..2g+1 of
// qh[32 * h + l].
struct BlockQ6K {
  uint8_t ql[kKBlockValues / 2];  // low 4 bits of the quants
  uint8_t qh[kKBlockValues / 4];  // high 2 bits
  int8_t scales[kQ6KSubBlocks];   // 8-bit sub-block scales
  uint16_t d;                     // f16 super-block scale
};
static_assert(sizeof(BlockQ6K) == 210);

struct BlockQ8K {
  float d;                       // scale
  int8_t qs[kKBlockValues];      // quants
  int16_t bsums[kQ8KSumGroups];  // sum of qs over each group of 16
};
static_assert(sizeof(BlockQ8K) == 292);

// Sub-block j's 6-bit scale and min in a Q4_K block's packed `scales`:
// j < 4 in the low 6 bits of bytes j and j + 4; j >= 4 in the nibbles of
// byte j + 4, with their top 2 bits in the high bits of bytes j - 4 and j.
inline void Q4KScaleMin(const uint8_t* scales, int j, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
    *min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// The quantized types tierkv reads, and the size of one block of each.
enum class QuantType { kQ8_0, kQ4_0, kQ4K, kQ6K, kQ8K };

constexpr int QuantBlockValues(QuantType t) {
  return t == QuantType::kQ8_0 || t == QuantType::kQ4_0 ? 32 : kKBlockValues;
}

constexpr size_t QuantBlockBytes(QuantType t) {
  switch (t) {
    case QuantType::kQ8_0:
      return sizeof(BlockQ8_0);
    case QuantType::kQ4_0:
      return sizeof(BlockQ4_0);
    case QuantType::kQ4K:
      return sizeof(BlockQ4K);
    case QuantType::kQ6K:
      return sizeof(BlockQ6K);
    case QuantType::kQ8K:
      return sizeof(BlockQ8K);
  }
  return 0;
}

// Bytes of one row of `k` values (k a multiple of QuantBlockValues(t)).
constexpr size_t QuantRowBytes(QuantType t, int64_t k) {
  return static_cast<size_t>(k / QuantBlockValues(t)) * QuantBlockBytes(t);
}

}  // namespace tierkv::kernels
