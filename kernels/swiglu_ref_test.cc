#include "kernels/swiglu_ref.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

TEST(SwigluRefTest, MatchesLoop) {
  auto gate = testing::RandomVector(1001, 7, 4.0f);
  auto up = testing::RandomVector(1001, 8);
  gate[0] = -200.0f;
  gate[1] = 200.0f;
  std::vector<float> out(gate.size());
  SwigluRef(gate.data(), up.data(), out.data(), gate.size());
  std::vector<float> expect(gate.size());
  for (size_t i = 0; i < gate.size(); ++i) {
    expect[i] =
        static_cast<float>(gate[i] / (1.0 + std::exp(-static_cast<double>(gate[i]))) * up[i]);
  }
  EXPECT_LT(testing::NormalizedError(out, expect), 1e-6);
  EXPECT_FALSE(std::isnan(out[0]));
}

}  // namespace
}  // namespace tierkv::kernels
