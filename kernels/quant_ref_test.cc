#include "kernels/quant_ref.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/half.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

// Blocks filled with random bytes, with scales set to finite halves: every
// bit pattern of the quants is a valid block.
template <typename Block>
std::vector<Block> RandomBlocks(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Block> blocks(n);
  auto* bytes = reinterpret_cast<uint8_t*>(blocks.data());
  for (size_t i = 0; i < blocks.size() * sizeof(Block); ++i) bytes[i] = rng() & 0xFF;
  std::normal_distribution<float> scale(0.0f, 0.05f);
  for (Block& b : blocks) {
    if constexpr (requires { b.dmin; }) b.dmin = F32ToF16(std::fabs(scale(rng)));
    b.d = F32ToF16(scale(rng));
  }
  return blocks;
}

// The straightforward readings of the layouts in ggml-common.h, one value at
// a time, written independently of quant_ref.cc's loops.
float Q8_0Value(const BlockQ8_0& b, int i) { return F16ToF32(b.d) * b.qs[i]; }

float Q4_0Value(const BlockQ4_0& b, int i) {
  const int nibble = i < 16 ? b.qs[i] & 0xF : b.qs[i - 16] >> 4;
  return F16ToF32(b.d) * (nibble - 8);
}

float Q4KValue(const BlockQ4K& b, int i) {
  const int sub = i / 32;   // sub-block
  const int pair = i / 64;  // sub-blocks 2p and 2p+1 share 32 bytes
  const int l = i % 32;
  const uint8_t byte = b.qs[32 * pair + l];
  const int q = sub % 2 == 0 ? byte & 0xF : byte >> 4;
  // 6-bit scale and min of sub-block `sub`, from the 12 packed bytes.
  int sc, m;
  if (sub < 4) {
    sc = b.scales[sub] % 64;
    m = b.scales[sub + 4] % 64;
  } else {
    sc = (b.scales[sub + 4] % 16) + (b.scales[sub - 4] / 64) * 16;
    m = (b.scales[sub + 4] / 16) + (b.scales[sub] / 64) * 16;
  }
  return F16ToF32(b.d) * sc * q - F16ToF32(b.dmin) * m;
}

float Q6KValue(const BlockQ6K& b, int i) {
  const int half = i / 128, g = (i % 128) / 32, l = i % 32;
  const uint8_t low_byte = b.ql[64 * half + 32 * (g % 2) + l];
  const int low = g < 2 ? low_byte % 16 : low_byte / 16;
  const int high = (b.qh[32 * half + l] >> (2 * g)) % 4;
  return F16ToF32(b.d) * b.scales[i / 16] * (low + 16 * high - 32);
}

template <typename Block, typename Value, typename Dequantize>
void ExpectDequantizeMatchesValues(int values_per_block, Value value, Dequantize dequantize) {
  constexpr int kBlocks = 37;
  const std::vector<Block> blocks = RandomBlocks<Block>(kBlocks, values_per_block);
  std::vector<float> got(static_cast<size_t>(kBlocks) * values_per_block);
  dequantize(blocks.data(), got.data(), static_cast<int64_t>(got.size()));
  for (int b = 0; b < kBlocks; ++b) {
    for (int i = 0; i < values_per_block; ++i) {
      // Absolute slack: Q4_K's d * sc * q - dmin * m may cancel to near zero.
      const float want = value(blocks[b], i);
      ASSERT_NEAR(got[b * values_per_block + i], want, 1e-5f + 1e-6f * std::fabs(want))
          << "block " << b << " value " << i;
    }
  }
}

TEST(QuantRefTest, DequantizeQ8_0MatchesLayout) {
  ExpectDequantizeMatchesValues<BlockQ8_0>(32, Q8_0Value, DequantizeRowQ8_0Ref);
}

TEST(QuantRefTest, DequantizeQ4_0MatchesLayout) {
  ExpectDequantizeMatchesValues<BlockQ4_0>(32, Q4_0Value, DequantizeRowQ4_0Ref);
}

TEST(QuantRefTest, DequantizeQ4KMatchesLayout) {
  ExpectDequantizeMatchesValues<BlockQ4K>(256, Q4KValue, DequantizeRowQ4KRef);
}

TEST(QuantRefTest, DequantizeQ6KMatchesLayout) {
  ExpectDequantizeMatchesValues<BlockQ6K>(256, Q6KValue, DequantizeRowQ6KRef);
}

TEST(QuantRefTest, Q8_0RoundsHalfToEvenAgainstTheBlockMaximum) {
  // amax 127 makes the multiplier exactly 1: the quants are round(x).
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[3] = -2.5f;
  x[4] = 0.49f;
  BlockQ8_0 b;
  QuantizeRowQ8_0Ref(x.data(), &b, 32);
  EXPECT_EQ(F16ToF32(b.d), 1.0f);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 2);
  EXPECT_EQ(b.qs[2], 4);
  EXPECT_EQ(b.qs[3], -2);
  EXPECT_EQ(b.qs[4], 0);
}

TEST(QuantRefTest, ZeroBlocksQuantizeToZeros) {
  const std::vector<float> zeros(256, 0.0f);
  std::vector<float> back(256, 1.0f);
  for (QuantType t :
       {QuantType::kQ8_0, QuantType::kQ4_0, QuantType::kQ4K, QuantType::kQ6K, QuantType::kQ8K}) {
    std::vector<std::byte> row(QuantRowBytes(t, 256));
    QuantizeRowRef(t, zeros.data(), row.data(), 256);
    DequantizeRowRef(t, row.data(), back.data(), 256);
    for (float v : back) ASSERT_EQ(v, 0.0f) << static_cast<int>(t);
  }
}

// Root-mean-square error of a round trip, relative to the data's RMS.
double RoundTripRelativeRms(QuantType t, const std::vector<float>& x) {
  std::vector<std::byte> row(QuantRowBytes(t, static_cast<int64_t>(x.size())));
  std::vector<float> back(x.size());
  QuantizeRowRef(t, x.data(), row.data(), static_cast<int64_t>(x.size()));
  DequantizeRowRef(t, row.data(), back.data(), static_cast<int64_t>(x.size()));
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (back[i] - x[i]) * static_cast<double>(back[i] - x[i]);
    ref += x[i] * static_cast<double>(x[i]);
  }
  return std::sqrt(err / ref);
}

TEST(QuantRefTest, RoundTripErrorsFitEachTypesBits) {
  // Gaussian weights, as in trained and random models. Bounds: about 1.5x what
  // each type reaches here, far below what a wrong layout or scale gives (~1).
  const std::vector<float> x = testing::RandomVector(4096, 3, 0.02f);
  EXPECT_LT(RoundTripRelativeRms(QuantType::kQ8_0, x), 0.008);
  EXPECT_LT(RoundTripRelativeRms(QuantType::kQ8K, x), 0.01);
  EXPECT_LT(RoundTripRelativeRms(QuantType::kQ6K, x), 0.026);
  EXPECT_LT(RoundTripRelativeRms(QuantType::kQ4K, x), 0.11);
  EXPECT_LT(RoundTripRelativeRms(QuantType::kQ4_0, x), 0.125);
}

TEST(QuantRefTest, Q8KSumsAndScaleMatchItsQuants) {
  const std::vector<float> x = testing::RandomVector(512, 5);
  std::vector<BlockQ8K> y(2);
  QuantizeRowQ8KRef(x.data(), y.data(), 512);
  for (int b = 0; b < 2; ++b) {
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * g + i];
      EXPECT_EQ(y[b].bsums[g], sum);
    }
    for (int i = 0; i < 256; ++i) {
      EXPECT_NEAR(y[b].d * y[b].qs[i], x[256 * b + i], std::fabs(y[b].d) * 0.5f + 1e-6f);
    }
  }
}

}  // namespace
}  // namespace tierkv::kernels
