#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"
#include "kernels/swiglu.cuh"
#include "kernels/swiglu_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels::testing {
namespace {

// __expf against the reference's (fast-math) expf: a few ulp.
constexpr double kBound = 1e-5;

}  // namespace

std::vector<KernelCase> SwigluCases() {
  std::vector<KernelCase> cases;
  uint64_t seed = 1;
  for (size_t n : {size_t{1}, size_t{255}, size_t{14336}, size_t{8} * 14336 + 3}) {
    const uint64_t s = seed;
    seed += 2;
    cases.push_back({"swiglu " + std::to_string(n) + " f32", BoundFor(KvDtype::kF32, kBound),
                     [n, s]() -> Result<CaseOutputs> {
                       // Wide gate values reach both tails of silu.
                       const std::vector<float> gate = RandomVector(n, s, 8.0f);
                       const std::vector<float> up = RandomVector(n, s + 1);
                       CaseOutputs out;
                       out.reference.resize(n);
                       SwigluRef(gate.data(), up.data(), out.reference.data(), n);
                       DeviceBuffer d_gate = Upload(gate);
                       DeviceBuffer d_up = Upload(up);
                       // Output over the gate, as the engine runs it.
                       TIERKV_RETURN_IF_ERROR(SwigluCuda(d_gate.as<float>(), d_up.as<float>(),
                                                         d_gate.as<float>(), n, nullptr));
                       out.kernel = Download<float>(d_gate, n);
                       return out;
                     }});
  }
  return cases;
}

namespace {

TEST(SwigluCudaTest, NullPointerIsInvalidArgument) {
  float dummy = 0.0f;
  EXPECT_TRUE(SwigluCuda(nullptr, &dummy, &dummy, 4, nullptr).IsInvalidArgument());
  EXPECT_TRUE(SwigluCuda(nullptr, nullptr, nullptr, 0, nullptr).ok());
}

}  // namespace
}  // namespace tierkv::kernels::testing
