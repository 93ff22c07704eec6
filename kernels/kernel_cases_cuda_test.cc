// Runs every case of the kernel test harness (kernel_cases.h) on the GPU.
// Skips, naming the reason, where no CUDA device is present.
#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"
#include "kernels/test_util.h"

namespace tierkv::kernels::testing {

// gtest names a parameter in failure messages and listings by this (found by
// argument-dependent lookup, so beside KernelCase's namespace).
void PrintTo(const KernelCase& c, std::ostream* os) { *os << c.name; }

namespace {

std::vector<KernelCase> AllCases() {
  std::vector<KernelCase> all;
  for (auto cases : {RmsNormCases, SwigluCases, RopeCases}) {
    for (KernelCase& c : cases()) all.push_back(std::move(c));
  }
  return all;
}

class KernelCaseTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(KernelCaseTest, MatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  const KernelCase& c = GetParam();
  auto outputs = c.run();
  ASSERT_TRUE(outputs.ok()) << c.name << ": " << outputs.status().ToString();
  ASSERT_EQ(outputs->kernel.size(), outputs->reference.size()) << c.name;
  const double error = NormalizedError(outputs->kernel, outputs->reference);
  EXPECT_LT(error, c.bound) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Cases, KernelCaseTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<KernelCase>& info) {
                           std::string name;
                           for (char ch : info.param.name) {
                             name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           }
                           return name + "_" + std::to_string(info.index);
                         });

}  // namespace
}  // namespace tierkv::kernels::testing
