#include "kernels/rope_ref.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

TEST(RopeRefTest, MatchesLlamaNormalMode) {
  const int n_tokens = 5, n_heads = 3, head_dim = 8;
  const float base = 10000.0f;
  auto x = testing::RandomVector(n_tokens * n_heads * head_dim, 5);
  auto y = x;
  const int32_t positions[] = {0, 1, 2, 17, 300};
  RopeRef(y.data(), positions, n_tokens, n_heads, head_dim, n_heads * head_dim, head_dim, base);
  std::vector<float> expect(x.size());
  for (int t = 0; t < n_tokens; ++t) {
    for (int h = 0; h < n_heads; ++h) {
      for (int i = 0; i < head_dim / 2; ++i) {
        const double theta = positions[t] * std::pow(base, -2.0 * i / head_dim);
        const int at = (t * n_heads + h) * head_dim + 2 * i;
        expect[at] = x[at] * std::cos(theta) - x[at + 1] * std::sin(theta);
        expect[at + 1] = x[at] * std::sin(theta) + x[at + 1] * std::cos(theta);
      }
    }
  }
  EXPECT_LT(testing::NormalizedError(y, expect), 1e-6);
}

TEST(RopeRefTest, PositionZeroIsIdentityAndPartialRotationKeepsTail) {
  auto x = testing::RandomVector(16, 6);
  auto y = x;
  const int32_t zero = 0;
  RopeRef(y.data(), &zero, 1, 2, 8, 16, 8, 10000.0f);
  EXPECT_EQ(x, y);
  const int32_t pos = 9;
  RopeRef(y.data(), &pos, 1, 2, 8, 16, 4, 10000.0f);
  for (int h = 0; h < 2; ++h) {
    for (int i = 4; i < 8; ++i) EXPECT_EQ(y[h * 8 + i], x[h * 8 + i]);
    EXPECT_NE(y[h * 8], x[h * 8]);
  }
}

}  // namespace
}  // namespace tierkv::kernels
