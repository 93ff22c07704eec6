#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/swiglu.cuh"
#include "kernels/swiglu_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

using testing::Download;
using testing::NormalizedError;
using testing::RandomVector;
using testing::Upload;

// __expf against the reference's (fast-math) expf: a few ulp.
constexpr double kBound = 1e-5;

TEST(SwigluCudaTest, MatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  uint64_t seed = 1;
  for (size_t n : {size_t{1}, size_t{255}, size_t{14336}, size_t{8} * 14336 + 3}) {
    SCOPED_TRACE(n);
    // Wide gate values reach both tails of silu.
    const std::vector<float> gate = RandomVector(n, seed++, 8.0f);
    const std::vector<float> up = RandomVector(n, seed++);
    std::vector<float> expected(n);
    SwigluRef(gate.data(), up.data(), expected.data(), n);
    DeviceBuffer d_gate = Upload(gate);
    DeviceBuffer d_up = Upload(up);
    // Output over the gate, as the engine runs it.
    ASSERT_TRUE(
        SwigluCuda(d_gate.as<float>(), d_up.as<float>(), d_gate.as<float>(), n, nullptr).ok());
    EXPECT_LT(NormalizedError(Download<float>(d_gate, n), expected), kBound);
  }
}

TEST(SwigluCudaTest, NullPointerIsInvalidArgument) {
  float dummy = 0.0f;
  EXPECT_TRUE(SwigluCuda(nullptr, &dummy, &dummy, 4, nullptr).IsInvalidArgument());
  EXPECT_TRUE(SwigluCuda(nullptr, nullptr, nullptr, 0, nullptr).ok());
}

}  // namespace
}  // namespace tierkv::kernels
