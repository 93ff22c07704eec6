#include "kernels/matmul_ref.h"

#include <gtest/gtest.h>

#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

TEST(MatMulRefTest, MatchesLoopAndAccumulates) {
  const int m = 5, n = 7, k = 33, ldy = 9;
  auto x = testing::RandomVector(m * k, 10);
  auto w = testing::RandomVector(n * k, 11);
  std::vector<float> y(m * ldy, 1.0f);
  MatMulRef(x.data(), k, w.data(), y.data(), ldy, m, n, k, /*accumulate=*/true);
  std::vector<float> got, expect;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double acc = 1.0;
      for (int l = 0; l < k; ++l) acc += static_cast<double>(x[i * k + l]) * w[j * k + l];
      expect.push_back(static_cast<float>(acc));
      got.push_back(y[i * ldy + j]);
    }
    for (int j = n; j < ldy; ++j) EXPECT_EQ(y[i * ldy + j], 1.0f);
  }
  EXPECT_LT(testing::NormalizedError(got, expect), 1e-5);
  MatMulRef(x.data(), k, w.data(), y.data(), ldy, m, n, k, /*accumulate=*/false);
  EXPECT_NEAR(y[0], expect[0] - 1.0f, 1e-4);
}

TEST(MatMulRefTest, SingleRowTakesTheGemvPath) {
  const int n = 9, k = 70;
  auto x = testing::RandomVector(k, 12);
  auto w = testing::RandomVector(n * k, 13);
  std::vector<float> y(n, 2.0f), expect(n);
  for (int j = 0; j < n; ++j) {
    double acc = 2.0;
    for (int l = 0; l < k; ++l) acc += static_cast<double>(x[l]) * w[j * k + l];
    expect[j] = static_cast<float>(acc);
  }
  MatMulRef(x.data(), k, w.data(), y.data(), n, 1, n, k, /*accumulate=*/true);
  EXPECT_LT(testing::NormalizedError(y, expect), 1e-5);
}

}  // namespace
}  // namespace tierkv::kernels
