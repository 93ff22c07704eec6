#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cublas_matmul.h"
#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"
#include "kernels/matmul_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels::testing {
namespace {

// Inputs are identical on both sides and both accumulate in f32 (cuBLAS
// without TF32); only summation order differs, growing with sqrt(k).
constexpr double kMatMulBound = 1e-5;

struct GemmCase {
  int m, n, k;
};

GemmDtype GemmDtypeFor(KvDtype dtype) {
  return dtype == KvDtype::kF32   ? GemmDtype::kF32
         : dtype == KvDtype::kF16 ? GemmDtype::kF16
                                  : GemmDtype::kBf16;
}

Result<CaseOutputs> RunMatMul(const GemmCase& c, KvDtype dtype, bool accumulate, uint64_t seed) {
  TIERKV_ASSIGN_OR_RETURN(CublasMatMul blas, CublasMatMul::Create(nullptr));
  std::vector<float> x = RandomVector(static_cast<size_t>(c.m) * c.k, seed);
  std::vector<float> w = RandomVector(static_cast<size_t>(c.n) * c.k, seed + 1);
  RoundToDtype(x, dtype);
  RoundToDtype(w, dtype);
  std::vector<float> y = RandomVector(static_cast<size_t>(c.m) * c.n, seed + 2);
  DeviceBuffer d_y = Upload(y);
  MatMulRef(x.data(), c.k, w.data(), y.data(), c.n, c.m, c.n, c.k, accumulate);
  DeviceBuffer d_x = Upload(EncodeAs(x, dtype));
  DeviceBuffer d_w = Upload(EncodeAs(w, dtype));
  TIERKV_RETURN_IF_ERROR(blas.MatMul(GemmDtypeFor(dtype), d_x.get(), c.k, d_w.get(),
                                     d_y.as<float>(), c.n, c.m, c.n, c.k, accumulate));
  return CaseOutputs{Download<float>(d_y, y.size()), std::move(y)};
}

}  // namespace

// cuBLAS products against MatMulRef, as harness cases (kernel_cases.h): decode's
// single row, a ragged batch, a wide FFN-like product and a tiny odd one, in
// each GEMM input type, overwriting and accumulating.
std::vector<KernelCase> CublasMatMulCases() {
  std::vector<KernelCase> cases;
  uint64_t seed = 1;
  for (const GemmCase& c : {GemmCase{1, 4096, 4096}, GemmCase{37, 1024, 4096},
                            GemmCase{512, 14336, 512}, GemmCase{3, 5, 7}}) {
    for (KvDtype dtype : {KvDtype::kF32, KvDtype::kF16, KvDtype::kBf16}) {
      for (bool accumulate : {false, true}) {
        const uint64_t sd = seed;
        seed += 10;
        cases.push_back({"cublas " + std::to_string(c.m) + "x" + std::to_string(c.n) + "x" +
                             std::to_string(c.k) + (accumulate ? " +=" : "") + " " +
                             std::string(KvDtypeName(dtype)),
                         kMatMulBound, [c, dtype, accumulate, sd] {
                           return RunMatMul(c, dtype, accumulate, sd);
                         }});
      }
    }
  }
  return cases;
}

namespace {

TEST(CublasMatMulTest, BadShapesAreInvalidArgument) {
  TIERKV_SKIP_WITHOUT_GPU();
  auto blas = CublasMatMul::Create(nullptr);
  ASSERT_TRUE(blas.ok());
  float dummy = 0.0f;
  EXPECT_TRUE(blas->MatMul(GemmDtype::kF32, &dummy, 4, &dummy, &dummy, 2, 1, 2, 8, false)
                  .IsInvalidArgument());
  EXPECT_TRUE(blas->MatMul(GemmDtype::kF32, &dummy, 8, &dummy, &dummy, 2, -1, 2, 8, false)
                  .IsInvalidArgument());
}

// Never skips: with a device Create works, without one it says so.
TEST(CublasMatMulTest, CreateWorksWithADeviceAndIsUnavailableWithout) {
  const bool device = CudaDeviceCount().ok();
  auto blas = CublasMatMul::Create(nullptr);
  if (device) {
    EXPECT_TRUE(blas.ok()) << blas.status().ToString();
  } else {
    ASSERT_FALSE(blas.ok());
    EXPECT_EQ(blas.status().code(), StatusCode::kUnavailable);
  }
}

}  // namespace
}  // namespace tierkv::kernels::testing
