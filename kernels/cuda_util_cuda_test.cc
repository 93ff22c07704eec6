#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/cuda_util.h"
#include "kernels/swiglu.cuh"

namespace tierkv::kernels {
namespace {

// More device memory than any GPU has.
constexpr size_t kImpossibleBytes = size_t{1} << 60;

TEST(CudaUtilCudaTest, AFailedCallIsNotReportedAgainByTheNextLaunch) {
  TIERKV_SKIP_WITHOUT_GPU();
  auto huge = DeviceBuffer::Allocate(kImpossibleBytes);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted) << huge.status().ToString();
  auto pinned = PinnedBuffer::Allocate(kImpossibleBytes);
  ASSERT_FALSE(pinned.ok());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  IgnoreCudaError(cudaFree(reinterpret_cast<void*>(uintptr_t{16})));
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);

  const std::vector<float> ones(1024, 1.0f);
  DeviceBuffer gate = testing::Upload(ones);
  DeviceBuffer up = testing::Upload(ones);
  const Status launched =
      SwigluCuda(gate.as<float>(), up.as<float>(), gate.as<float>(), ones.size(), nullptr);
  EXPECT_TRUE(launched.ok()) << launched.ToString();
}

}  // namespace
}  // namespace tierkv::kernels
