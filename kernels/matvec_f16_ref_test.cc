#include "kernels/matvec_f16_ref.h"

#include <gtest/gtest.h>

#include "kernels/half.h"
#include "kernels/parallel_for.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

// Every path the host supports, on random inputs, against a double-precision
// loop; shapes cover row counts off the 4-row batch and columns off each
// path's step (16 for AVX2, 32 for AVX-512).
TEST(MatVecF16Test, EverySupportedPathMatchesTheLoop) {
  const std::vector<MatVecPath> paths = SupportedMatVecPaths(HostCpuFeatures());
  ASSERT_FALSE(paths.empty());
  uint64_t seed = 14;
  for (auto [n, k] : {std::pair{1, 1}, {7, 15}, {130, 77}, {300, 1024}, {1027, 2816}, {64, 33}}) {
    auto wf = testing::RandomVector(static_cast<size_t>(n) * k, seed++);
    std::vector<uint16_t> w(wf.size());
    F32ToF16Ref(wf.data(), w.data(), w.size());
    auto x = testing::RandomVector(k, seed++);
    std::vector<float> expect(n);
    for (int r = 0; r < n; ++r) {
      double acc = 0.5;
      for (int i = 0; i < k; ++i) {
        acc += static_cast<double>(F16ToF32(w[static_cast<size_t>(r) * k + i])) * x[i];
      }
      expect[r] = static_cast<float>(acc);
    }
    for (MatVecPath path : paths) {
      std::vector<float> y(n, 0.5f);
      MatVecF16(path, w.data(), x.data(), y.data(), n, k, /*accumulate=*/true);
      EXPECT_LT(testing::NormalizedError(y, expect), 1e-5)
          << MatVecPathName(path) << " " << n << "x" << k;
      std::vector<float> fresh(n, 1e6f);
      MatVecF16(path, w.data(), x.data(), fresh.data(), n, k, /*accumulate=*/false);
      for (float& e : expect) e -= 0.5f;
      EXPECT_LT(testing::NormalizedError(fresh, expect), 1e-5)
          << MatVecPathName(path) << " " << n << "x" << k << " overwrite";
      for (float& e : expect) e += 0.5f;
    }
  }
}

TEST(MatVecF16Test, PathsFollowTheCpuFeatures) {
  CpuFeatures none;
  EXPECT_EQ(BestMatVecPath(none), MatVecPath::kScalar);
  CpuFeatures avx2;
  avx2.avx2 = avx2.fma = avx2.f16c = true;
  EXPECT_EQ(BestMatVecPath(avx2), MatVecPath::kAvx2);
  CpuFeatures avx512 = avx2;
  avx512.avx512f = avx512.avx512bw = avx512.avx512dq = avx512.avx512vl = true;
  EXPECT_EQ(SupportedMatVecPaths(avx512),
            (std::vector<MatVecPath>{MatVecPath::kScalar, MatVecPath::kAvx2, MatVecPath::kAvx512}));
  EXPECT_EQ(MatVecPathName(MatVecPath::kAvx512), "avx512");
}

TEST(ParallelForTest, RunsEveryIndexOnceAcrossCalls) {
  for (int round = 0; round < 50; ++round) {
    std::vector<int> hits(round + 3, 0);
    ParallelFor(static_cast<int>(hits.size()), [&](int i) { ++hits[i]; });
    for (int h : hits) ASSERT_EQ(h, 1);
  }
}

}  // namespace
}  // namespace tierkv::kernels
