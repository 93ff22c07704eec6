#include "kernels/test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace tierkv::kernels {
namespace {

using testing::NormalizedError;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(NormalizedErrorTest, MeasuresTheLargestDifferenceAgainstTheLargestReference) {
  const std::vector<float> want = {1.0f, -4.0f, 2.0f};
  EXPECT_EQ(NormalizedError(want, want), 0.0);
  EXPECT_DOUBLE_EQ(NormalizedError(std::vector<float>{1.0f, -4.0f, 3.0f}, want), 0.25);
  EXPECT_DOUBLE_EQ(NormalizedError(std::vector<float>{0.5f, -3.0f, 2.0f}, want), 0.25);
}

TEST(NormalizedErrorTest, AnAllNanOutputFails) {
  const std::vector<float> want = {1.0f, 2.0f, 3.0f};
  EXPECT_EQ(NormalizedError(std::vector<float>(3, kNan), want), INFINITY);
  EXPECT_GT(NormalizedError(std::vector<float>(3, kNan), want), 1.0);
}

TEST(NormalizedErrorTest, OneNanOrInfAnywhereFails) {
  const std::vector<float> want = {1.0f, 2.0f, 3.0f};
  for (size_t at = 0; at < want.size(); ++at) {
    for (float bad : {kNan, kInf, -kInf}) {
      std::vector<float> got = want;
      got[at] = bad;
      EXPECT_EQ(NormalizedError(got, want), INFINITY) << "at " << at << ": " << bad;
      // A reference that went non-finite is as wrong as the kernel.
      EXPECT_EQ(NormalizedError(want, got), INFINITY) << "at " << at << ": " << bad;
    }
  }
}

TEST(NormalizedErrorTest, DifferentSizesFail) {
  EXPECT_EQ(NormalizedError(std::vector<float>{1.0f}, std::vector<float>{1.0f, 2.0f}), INFINITY);
}

}  // namespace
}  // namespace tierkv::kernels
