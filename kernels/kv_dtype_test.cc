#include "kernels/kv_dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/half.h"
#include "kernels/quant_blocks.h"
#include "kernels/quant_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

TEST(KvDtypeTest, NamesParseBack) {
  for (KvDtype dtype : kAllKvDtypes) {
    auto parsed = ParseKvDtype(KvDtypeName(dtype));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, dtype);
  }
  EXPECT_EQ(KvDtypeName(KvDtype::kQ8_0), "q8_0");
  auto bad = ParseKvDtype("q4_0");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("f32, f16, bf16 or q8_0"), std::string::npos);
}

TEST(KvDtypeTest, RowSizes) {
  EXPECT_EQ(KvRowBytes(KvDtype::kF32, 256), 1024u);
  EXPECT_EQ(KvRowBytes(KvDtype::kF16, 256), 512u);
  EXPECT_EQ(KvRowBytes(KvDtype::kBf16, 256), 512u);
  // 8 blocks of 34 bytes: 0.27x of f32.
  EXPECT_EQ(KvRowBytes(KvDtype::kQ8_0, 256), 8 * sizeof(BlockQ8_0));
  EXPECT_EQ(KvRowUnits(KvDtype::kF16, 256), 256);
  EXPECT_EQ(KvRowUnits(KvDtype::kQ8_0, 256), 272);
  EXPECT_EQ(KvRowUnitOffset(KvDtype::kQ8_0, 64), 68);  // head 1 of 64-wide heads
  EXPECT_EQ(KvRowUnitOffset(KvDtype::kBf16, 64), 64);
}

TEST(KvDtypeTest, Q8_0NeedsWholeBlocksPerHead) {
  EXPECT_TRUE(CheckKvRow(KvDtype::kQ8_0, 64).ok());
  EXPECT_TRUE(CheckKvRow(KvDtype::kQ8_0, 48).IsInvalidArgument());
  EXPECT_TRUE(CheckKvRow(KvDtype::kF16, 48).ok());
}

// The vectorized f16 conversions give the scalar ones' bits, on random
// values and on the edge cases (subnormals, overflow, ties, signed zero).
TEST(KvDtypeTest, F16ConversionsMatchScalar) {
  std::vector<float> x = testing::RandomVector(1003, 1, 100.0f);
  const float edges[] = {0.0f,
                         -0.0f,
                         6.0e-8f,
                         -6.0e-8f,
                         3.0e-5f,
                         65504.0f,
                         70000.0f,
                         1.0f + 1.0f / 2048,
                         1.0f + 3.0f / 2048,
                         -1e-10f};
  x.insert(x.begin(), std::begin(edges), std::end(edges));
  std::vector<uint16_t> h(x.size());
  F32ToKv(KvDtype::kF16, x.data(), h.data(), static_cast<int>(x.size()));
  std::vector<float> back(x.size());
  KvToF32(KvDtype::kF16, h.data(), back.data(), static_cast<int>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(h[i], F32ToF16(x[i])) << x[i];
    const float want = F16ToF32(h[i]);
    ASSERT_EQ(std::memcmp(&back[i], &want, sizeof(float)), 0) << x[i];
  }
}

TEST(KvDtypeTest, Bf16AndQ8_0RoundTrip) {
  const std::vector<float> x = testing::RandomVector(256, 2, 3.0f);
  std::vector<uint16_t> b(x.size());
  std::vector<float> back(x.size());
  F32ToKv(KvDtype::kBf16, x.data(), b.data(), 256);
  KvToF32(KvDtype::kBf16, b.data(), back.data(), 256);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(back[i], Bf16ToF32(F32ToBf16(x[i])));

  std::vector<BlockQ8_0> q(256 / kQ8_0BlockValues), want(q.size());
  F32ToKv(KvDtype::kQ8_0, x.data(), q.data(), 256);
  QuantizeRowQ8_0Ref(x.data(), want.data(), 256);
  EXPECT_EQ(std::memcmp(q.data(), want.data(), q.size() * sizeof(BlockQ8_0)), 0);
  KvToF32(KvDtype::kQ8_0, q.data(), back.data(), 256);
  // Each value within half a step (amax / 127 / 2) of its block's scale.
  EXPECT_LT(testing::NormalizedError(back, x), 1.0 / 127);
  EXPECT_GT(testing::NormalizedError(back, x), 0.0);
}

}  // namespace
}  // namespace tierkv::kernels
