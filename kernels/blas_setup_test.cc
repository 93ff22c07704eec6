#include "kernels/blas_setup.h"

#include <cblas.h>
#include <gtest/gtest.h>
#include <strings.h>

#include <string>
#include <vector>

#include "kernels/matmul_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

CpuFeatures Avx2(const char* vendor) {
  CpuFeatures f;
  f.vendor = vendor;
  f.avx2 = f.fma = f.f16c = true;
  return f;
}

TEST(BlasSetupTest, CoreTypeFollowsTheFeaturesNotTheModel) {
  EXPECT_EQ(OpenBlasCoreFor(CpuFeatures{}), "");
  EXPECT_EQ(OpenBlasCoreFor(Avx2("GenuineIntel")), "Haswell");
  EXPECT_EQ(OpenBlasCoreFor(Avx2("AuthenticAMD")), "Zen");
  CpuFeatures avx512 = Avx2("GenuineIntel");
  avx512.avx512f = avx512.avx512bw = avx512.avx512dq = avx512.avx512vl = true;
  EXPECT_EQ(OpenBlasCoreFor(avx512), "SkylakeX");
  avx512.vendor = "AuthenticAMD";  // Zen 4
  EXPECT_EQ(OpenBlasCoreFor(avx512), "SkylakeX");
  avx512.avx512vl = false;  // not the full Skylake-X subset
  EXPECT_EQ(OpenBlasCoreFor(avx512), "Zen");
}

// In this very process, OpenBLAS runs the kernels chosen for this CPU once
// set up (whatever it picked for itself at load).
TEST(BlasSetupTest, OpenBlasRunsTheKernelsChosenForThisCpu) {
  const BlasSetup& setup = EnsureBlasSetUp();
  if (setup.requested_by_user) {
    GTEST_SKIP() << "OPENBLAS_CORETYPE=" << setup.requested << " was set by the environment";
  }
  const std::string_view wanted = OpenBlasCoreFor(HostCpuFeatures());
  if (wanted.empty()) GTEST_SKIP() << "no AVX2 here: OpenBLAS chooses for itself";
  EXPECT_EQ(setup.requested, wanted);
  EXPECT_EQ(strcasecmp(setup.in_use.c_str(), std::string(wanted).c_str()), 0)
      << "OpenBLAS runs " << setup.in_use << ", tierkv asked for " << wanted;
  EXPECT_NE(DescribeKernelPaths().find("sgemm OpenBLAS " + setup.in_use), std::string::npos)
      << DescribeKernelPaths();
}

// Switching kernels after OpenBLAS's own start (what set-up does when
// OpenBLAS chose wrong at load) keeps its products right: to the oldest
// kernels every x86-64 runs, and back.
TEST(BlasSetupTest, SwitchedKernelsStillMultiplyRight) {
  const std::string wanted(OpenBlasCoreFor(HostCpuFeatures()));
  if (wanted.empty()) GTEST_SKIP() << "no AVX2 here";
  EnsureBlasSetUp();
  const int m = 37, n = 53, k = 129;
  const auto x = testing::RandomVector(static_cast<size_t>(m) * k, 3);
  const auto w = testing::RandomVector(static_cast<size_t>(n) * k, 4);
  std::vector<float> expect(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double acc = 0;
      for (int t = 0; t < k; ++t) acc += static_cast<double>(x[i * k + t]) * w[j * k + t];
      expect[i * n + j] = static_cast<float>(acc);
    }
  }
  for (const std::string core : {std::string("Prescott"), wanted}) {
    ASSERT_TRUE(SelectOpenBlasCore(core)) << "not a DYNAMIC_ARCH OpenBLAS";
    EXPECT_EQ(strcasecmp(openblas_get_corename(), core.c_str()), 0) << openblas_get_corename();
    std::vector<float> y(expect.size());
    MatMulRef(x.data(), k, w.data(), y.data(), n, m, n, k, /*accumulate=*/false);
    EXPECT_LT(testing::NormalizedError(y, expect), 1e-5) << core;
  }
}

}  // namespace
}  // namespace tierkv::kernels
