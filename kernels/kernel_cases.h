// The kernel test harness, in the shape of ggml's tests/test-backend-ops.cpp:
// every kernel is a table of cases (shapes and dtypes), each run on fresh
// random inputs through the kernel and through what it must agree with, and
// compared by one normalized error (NormalizedError, which no NaN or Inf
// passes) against a bound set per case from the dtype.
//
// Two sides, one harness:
// - GPU cases (kernels_cuda_test, kernel_cases_cuda_test.cc): each CUDA
//   kernel against its CPU reference. They skip, naming the reason, where no
//   CUDA device is present.
// - CPU cases (kernels_test, kernel_cases_test.cc): each CPU reference kernel,
//   in every dtype, against a straightforward loop written for the test
//   (kv_cases.h, matmul_cases.h). They run everywhere.
// Both sides of an op share its inputs (made from the case's seed), so the
// GPU kernel, the reference and the loop all see the same bytes.
//
// An op contributes functions returning its cases; a kernel without cases
// is not tested.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kv_dtype.h"
#include "tierkv/status.h"

namespace tierkv::kernels::testing {

// The kernel's output and what it is compared with, in the same layout.
struct CaseOutputs {
  std::vector<float> kernel;
  std::vector<float> reference;
};

struct KernelCase {
  std::string name;  // op, shape and dtype, e.g. "rmsnorm 7x1000 f32"
  double bound = 0;  // largest normalized error that passes (0: exact)
  // Makes the inputs (seeded), runs both sides; an error fails the case.
  std::function<Result<CaseOutputs>()> run;
};

// Runs `c` and checks its error against its bound (gtest assertions).
void ExpectCaseMatches(const KernelCase& c);
// A gtest parameter name for case `index`: the case name, alphanumeric.
std::string CaseTestName(const KernelCase& c, size_t index);

// Normalized-error bounds by the dtype the data passes through. Inputs are
// rounded to the dtype on both sides (KV is read from the same stored
// bytes), so `f32_bound` (summation order, device transcendental functions)
// holds for every dtype; the others get 5x more room for kernels that feed
// f16/bf16 products to tensor cores.
double BoundFor(KvDtype dtype, double f32_bound);

// GPU cases, defined beside each kernel's CUDA test.
std::vector<KernelCase> RmsNormCases();
std::vector<KernelCase> SwigluCases();
std::vector<KernelCase> RopeCases();
std::vector<KernelCase> PagedAttentionCases();
std::vector<KernelCase> KvCacheWriteCases();
std::vector<KernelCase> KvBlockCopyCases();
std::vector<KernelCase> CublasMatMulCases();

// CPU cases (kv_cases.cc, matmul_cases.cc).
std::vector<KernelCase> PagedAttentionRefCases();
std::vector<KernelCase> KvCacheWriteRefCases();
std::vector<KernelCase> KvBlockCopyRefCases();
std::vector<KernelCase> MatMulRefCases();

}  // namespace tierkv::kernels::testing
