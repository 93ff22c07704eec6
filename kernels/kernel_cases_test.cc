// The CPU side of the kernel test harness (kernel_cases.h): every CPU
// reference kernel, in every KV dtype, against a straightforward loop.
#include "kernels/kernel_cases.h"

#include <gtest/gtest.h>

#include <ostream>
#include <vector>

namespace tierkv::kernels::testing {

void PrintTo(const KernelCase& c, std::ostream* os) { *os << c.name; }

namespace {

std::vector<KernelCase> AllCpuCases() {
  std::vector<KernelCase> all;
  for (auto cases :
       {PagedAttentionRefCases, KvCacheWriteRefCases, KvBlockCopyRefCases, MatMulRefCases}) {
    for (KernelCase& c : cases()) all.push_back(std::move(c));
  }
  return all;
}

class KernelRefCaseTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(KernelRefCaseTest, MatchesLoop) { ExpectCaseMatches(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Cases, KernelRefCaseTest, ::testing::ValuesIn(AllCpuCases()),
                         [](const ::testing::TestParamInfo<KernelCase>& info) {
                           return CaseTestName(info.param, info.index);
                         });

}  // namespace
}  // namespace tierkv::kernels::testing
