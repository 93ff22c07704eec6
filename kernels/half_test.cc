#include "kernels/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tierkv::kernels {
namespace {

TEST(HalfTest, F16KnownValues) {
  EXPECT_EQ(F32ToF16(1.0f), 0x3c00);
  EXPECT_EQ(F32ToF16(-2.0f), 0xc000);
  EXPECT_EQ(F32ToF16(65504.0f), 0x7bff);
  EXPECT_EQ(F32ToF16(1e6f), 0x7c00);                   // overflow to infinity
  EXPECT_EQ(F32ToF16(5.9604645e-8f), 0x0001);          // smallest subnormal
  EXPECT_EQ(F32ToF16(1.0f + 1.0f / 2048.0f), 0x3c00);  // tie rounds to even
  EXPECT_EQ(F32ToF16(1.0f + 3.0f / 2048.0f), 0x3c02);  // tie rounds to even (up)
  EXPECT_FLOAT_EQ(F16ToF32(0x3555), 0.33325195f);
  EXPECT_TRUE(std::isnan(F16ToF32(F32ToF16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(HalfTest, F16RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t bits = static_cast<uint16_t>(h);
    const float f = F16ToF32(bits);
    if (std::isnan(f)) continue;
    ASSERT_EQ(F32ToF16(f), bits) << std::hex << h;
  }
}

TEST(HalfTest, Bf16RoundTripAndRounding) {
  for (uint32_t h = 0; h < 0x10000; h += 7) {
    const float f = Bf16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(F32ToBf16(f), h);
  }
  EXPECT_EQ(F32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(F32ToBf16(1.00390625f), 0x3f80);  // halfway, even stays
  EXPECT_EQ(F32ToBf16(1.01171875f), 0x3f82);  // halfway, odd rounds up
}

TEST(HalfTest, BulkMatchesScalar) {
  const float in[] = {0.5f, -3.25f, 1e-5f, 123.456f};
  uint16_t h[4];
  float back[4];
  F32ToF16Ref(in, h, 4);
  F16ToF32Ref(h, back, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], F16ToF32(F32ToF16(in[i])));
  F32ToBf16Ref(in, h, 4);
  Bf16ToF32Ref(h, back, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], Bf16ToF32(F32ToBf16(in[i])));
}

}  // namespace
}  // namespace tierkv::kernels
