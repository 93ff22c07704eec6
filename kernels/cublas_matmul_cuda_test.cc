#include <gtest/gtest.h>

#include <vector>

#include "kernels/cublas_matmul.h"
#include "kernels/cuda_test_util.h"
#include "kernels/matmul_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

using testing::Download;
using testing::EncodeAs;
using testing::NormalizedError;
using testing::RandomVector;
using testing::RoundToDtype;
using testing::Upload;

struct GemmCase {
  int m, n, k;
};

void RunMatMul(CublasMatMul& blas, const GemmCase& c, KvDtype dtype, bool accumulate,
               uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << c.m << "x" << c.n << "x" << c.k << " " << KvDtypeName(dtype)
                                    << (accumulate ? " +=" : ""));
  std::vector<float> x = RandomVector(static_cast<size_t>(c.m) * c.k, seed);
  std::vector<float> w = RandomVector(static_cast<size_t>(c.n) * c.k, seed + 1);
  RoundToDtype(x, dtype);
  RoundToDtype(w, dtype);
  std::vector<float> y = RandomVector(static_cast<size_t>(c.m) * c.n, seed + 2);
  DeviceBuffer d_y = Upload(y);
  MatMulRef(x.data(), c.k, w.data(), y.data(), c.n, c.m, c.n, c.k, accumulate);
  DeviceBuffer d_x = Upload(EncodeAs(x, dtype));
  DeviceBuffer d_w = Upload(EncodeAs(w, dtype));
  const GemmDtype gemm = dtype == KvDtype::kF32   ? GemmDtype::kF32
                         : dtype == KvDtype::kF16 ? GemmDtype::kF16
                                                  : GemmDtype::kBf16;
  ASSERT_TRUE(
      blas.MatMul(gemm, d_x.get(), c.k, d_w.get(), d_y.as<float>(), c.n, c.m, c.n, c.k, accumulate)
          .ok());
  // Inputs are identical on both sides and both accumulate in f32 (cuBLAS
  // without TF32); only summation order differs, growing with sqrt(k).
  EXPECT_LT(NormalizedError(Download<float>(d_y, y.size()), y), 1e-5);
}

TEST(CublasMatMulTest, MatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  auto blas = CublasMatMul::Create(nullptr);
  ASSERT_TRUE(blas.ok()) << blas.status().ToString();
  const GemmCase cases[] = {{1, 4096, 4096}, {37, 1024, 4096}, {512, 14336, 512}, {3, 5, 7}};
  uint64_t seed = 1;
  for (const GemmCase& c : cases) {
    for (KvDtype dtype : {KvDtype::kF32, KvDtype::kF16, KvDtype::kBf16}) {
      RunMatMul(*blas, c, dtype, false, seed);
      RunMatMul(*blas, c, dtype, true, seed + 10);
      seed += 20;
    }
  }
}

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
}  // namespace tierkv::kernels
