#include "kernels/matvec_f16_ref.h"

#include <gtest/gtest.h>

#include "kernels/half.h"
#include "kernels/parallel_for.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

TEST(MatVecF16RefTest, MatchesLoopForOddShapes) {
  for (auto [n, k] : {std::pair{1, 1}, {7, 15}, {130, 77}, {300, 1024}}) {
    auto wf = testing::RandomVector(static_cast<size_t>(n) * k, 14);
    std::vector<uint16_t> w(wf.size());
    F32ToF16Ref(wf.data(), w.data(), w.size());
    auto x = testing::RandomVector(k, 15);
    std::vector<float> y(n, 0.5f), expect(n);
    for (int r = 0; r < n; ++r) {
      double acc = 0.5;
      for (int i = 0; i < k; ++i) acc += static_cast<double>(F16ToF32(w[r * k + i])) * x[i];
      expect[r] = static_cast<float>(acc);
    }
    MatVecF16Ref(w.data(), x.data(), y.data(), n, k, /*accumulate=*/true);
    EXPECT_LT(testing::NormalizedError(y, expect), 1e-5) << n << "x" << k;
  }
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
