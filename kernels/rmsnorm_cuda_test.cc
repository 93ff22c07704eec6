#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"
#include "kernels/rmsnorm.cuh"
#include "kernels/rmsnorm_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels::testing {
namespace {

// The reference sums squares in double, the kernel in f32 over 256 threads.
constexpr double kBound = 1e-5;
constexpr float kEps = 1e-5f;

}  // namespace

std::vector<KernelCase> RmsNormCases() {
  const int shapes[][2] = {{1, 1}, {1, 4096}, {7, 1000}, {64, 4096}, {3, 8192}, {513, 257}};
  std::vector<KernelCase> cases;
  uint64_t seed = 1;
  for (const auto& [rows, dim] : shapes) {
    const uint64_t s = seed;
    seed += 2;
    cases.push_back(
        {"rmsnorm " + std::to_string(rows) + "x" + std::to_string(dim) + " f32",
         BoundFor(KvDtype::kF32, kBound), [rows = rows, dim = dim, s]() -> Result<CaseOutputs> {
           const std::vector<float> x = RandomVector(static_cast<size_t>(rows) * dim, s, 3.0f);
           const std::vector<float> w = RandomVector(dim, s + 1);
           CaseOutputs out;
           out.reference.resize(x.size());
           RmsNormRef(x.data(), w.data(), out.reference.data(), rows, dim, kEps);
           DeviceBuffer d_x = Upload(x);
           DeviceBuffer d_w = Upload(w);
           // In place, as the engine runs it.
           TIERKV_RETURN_IF_ERROR(RmsNormCuda(d_x.as<float>(), d_w.as<float>(), d_x.as<float>(),
                                              rows, dim, kEps, nullptr));
           out.kernel = Download<float>(d_x, x.size());
           return out;
         }});
  }
  return cases;
}

namespace {

TEST(RmsNormCudaTest, BadShapesAreInvalidArgument) {
  float dummy = 0.0f;
  EXPECT_TRUE(RmsNormCuda(&dummy, &dummy, &dummy, 1, 0, 1e-5f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RmsNormCuda(&dummy, &dummy, &dummy, -1, 8, 1e-5f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RmsNormCuda(&dummy, &dummy, &dummy, 1, 8, -1.0f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RmsNormCuda(nullptr, &dummy, &dummy, 1, 8, 1e-5f, nullptr).IsInvalidArgument());
}

}  // namespace
}  // namespace tierkv::kernels::testing
