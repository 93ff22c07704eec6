#include "kernels/softmax_ref.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

TEST(SoftmaxRefTest, MatchesLoopWithStride) {
  const int rows = 4, cols = 37, stride = 40;
  auto x = testing::RandomVector(rows * stride, 9, 10.0f);
  auto y = x;
  SoftmaxRef(y.data(), rows, cols, stride);
  for (int r = 0; r < rows; ++r) {
    double max = -1e30, sum = 0;
    for (int c = 0; c < cols; ++c) max = std::max<double>(max, x[r * stride + c]);
    for (int c = 0; c < cols; ++c) sum += std::exp(x[r * stride + c] - max);
    for (int c = 0; c < cols; ++c) {
      EXPECT_NEAR(y[r * stride + c], std::exp(x[r * stride + c] - max) / sum, 1e-6);
    }
    for (int c = cols; c < stride; ++c) EXPECT_EQ(y[r * stride + c], x[r * stride + c]);
  }
}

}  // namespace
}  // namespace tierkv::kernels
