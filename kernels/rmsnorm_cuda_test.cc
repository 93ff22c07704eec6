#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/rmsnorm.cuh"
#include "kernels/rmsnorm_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

using testing::Download;
using testing::NormalizedError;
using testing::RandomVector;
using testing::Upload;

// The reference sums squares in double, the kernel in f32 over 256 threads.
constexpr double kBound = 1e-5;

TEST(RmsNormCudaTest, MatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  const int shapes[][2] = {{1, 1}, {1, 4096}, {7, 1000}, {64, 4096}, {3, 8192}, {513, 257}};
  uint64_t seed = 1;
  for (const auto& [rows, dim] : shapes) {
    SCOPED_TRACE(::testing::Message() << rows << " x " << dim);
    const std::vector<float> x = RandomVector(static_cast<size_t>(rows) * dim, seed++, 3.0f);
    const std::vector<float> w = RandomVector(dim, seed++);
    std::vector<float> expected(x.size());
    RmsNormRef(x.data(), w.data(), expected.data(), rows, dim, 1e-5f);
    DeviceBuffer d_x = Upload(x);
    DeviceBuffer d_w = Upload(w);
    // In place, as the engine runs it.
    ASSERT_TRUE(
        RmsNormCuda(d_x.as<float>(), d_w.as<float>(), d_x.as<float>(), rows, dim, 1e-5f, nullptr)
            .ok());
    EXPECT_LT(NormalizedError(Download<float>(d_x, x.size()), expected), kBound);
  }
}

TEST(RmsNormCudaTest, BadShapesAreInvalidArgument) {
  float dummy = 0.0f;
  EXPECT_TRUE(RmsNormCuda(&dummy, &dummy, &dummy, 1, 0, 1e-5f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RmsNormCuda(&dummy, &dummy, &dummy, -1, 8, 1e-5f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RmsNormCuda(&dummy, &dummy, &dummy, 1, 8, -1.0f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RmsNormCuda(nullptr, &dummy, &dummy, 1, 8, 1e-5f, nullptr).IsInvalidArgument());
}

}  // namespace
}  // namespace tierkv::kernels
