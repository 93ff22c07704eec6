#include "kernels/kernel_cases.h"

#include <gtest/gtest.h>

#include <cctype>

#include "kernels/test_util.h"

namespace tierkv::kernels::testing {
namespace {

// Room the non-f32 dtypes get over f32 (see BoundFor).
constexpr double kHalfTypeFactor = 5.0;

}  // namespace

void ExpectCaseMatches(const KernelCase& c) {
  auto outputs = c.run();
  ASSERT_TRUE(outputs.ok()) << c.name << ": " << outputs.status().ToString();
  ASSERT_FALSE(outputs->reference.empty()) << c.name;
  ASSERT_EQ(outputs->kernel.size(), outputs->reference.size()) << c.name;
  const double error = NormalizedError(outputs->kernel, outputs->reference);
  EXPECT_LE(error, c.bound) << c.name;
}

std::string CaseTestName(const KernelCase& c, size_t index) {
  std::string name;
  for (char ch : c.name) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return name + "_" + std::to_string(index);
}

double BoundFor(KvDtype dtype, double f32_bound) {
  return dtype == KvDtype::kF32 ? f32_bound : f32_bound * kHalfTypeFactor;
}

}  // namespace tierkv::kernels::testing
