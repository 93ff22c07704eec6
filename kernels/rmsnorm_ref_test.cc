#include "kernels/rmsnorm_ref.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

TEST(RmsNormRefTest, MatchesLoop) {
  for (int dim : {1, 7, 64, 1000}) {
    const int rows = 3;
    const float eps = 1e-5f;
    auto x = testing::RandomVector(rows * dim, 1);
    auto w = testing::RandomVector(dim, 2);
    std::vector<float> y(x.size());
    RmsNormRef(x.data(), w.data(), y.data(), rows, dim, eps);
    std::vector<float> expect(x.size());
    for (int r = 0; r < rows; ++r) {
      double ss = 0;
      for (int i = 0; i < dim; ++i) ss += x[r * dim + i] * x[r * dim + i];
      const double inv = 1.0 / std::sqrt(ss / dim + eps);
      for (int i = 0; i < dim; ++i) expect[r * dim + i] = x[r * dim + i] * inv * w[i];
    }
    EXPECT_LT(testing::NormalizedError(y, expect), 1e-6) << "dim " << dim;
  }
}

TEST(RmsNormRefTest, InPlace) {
  auto x = testing::RandomVector(32, 3);
  auto w = testing::RandomVector(32, 4);
  std::vector<float> y(32);
  RmsNormRef(x.data(), w.data(), y.data(), 1, 32, 1e-6f);
  RmsNormRef(x.data(), w.data(), x.data(), 1, 32, 1e-6f);
  EXPECT_EQ(x, y);
}

}  // namespace
}  // namespace tierkv::kernels
