// Runs every GPU case of the kernel test harness (kernel_cases.h): each CUDA
// kernel against its CPU reference. Skips, naming the reason, where no CUDA
// device is present.
#include <gtest/gtest.h>

#include <ostream>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"

namespace tierkv::kernels::testing {

// gtest names a parameter in failure messages and listings by this (found by
// argument-dependent lookup, so beside KernelCase's namespace).
void PrintTo(const KernelCase& c, std::ostream* os) { *os << c.name; }

namespace {

std::vector<KernelCase> AllCases() {
  std::vector<KernelCase> all;
  for (auto cases : {RmsNormCases, SwigluCases, RopeCases, PagedAttentionCases, KvCacheWriteCases,
                     KvBlockCopyCases, CublasMatMulCases}) {
    for (KernelCase& c : cases()) all.push_back(std::move(c));
  }
  return all;
}

class KernelCaseTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(KernelCaseTest, MatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  ExpectCaseMatches(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cases, KernelCaseTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<KernelCase>& info) {
                           return CaseTestName(info.param, info.index);
                         });

}  // namespace
}  // namespace tierkv::kernels::testing
