// The kernel test harness, in the shape of ggml's tests/test-backend-ops.cpp:
// every CUDA kernel is a table of cases (shapes and dtypes), each run on fresh
// random inputs through the kernel and through its CPU reference, and
// compared by one normalized error (NormalizedError, which no NaN or Inf
// passes) against a bound set per case from the dtype. The preamble each
// kernel test used to repeat (skip without a device, upload, run, download,
// compare) lives in kernel_cases_cuda_test.cc, once.
//
// An op contributes a function returning its cases; a kernel without cases
// is not tested.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernel_args.h"
#include "tierkv/status.h"

namespace tierkv::kernels::testing {

// The kernel's output and the reference's, in the same layout.
struct CaseOutputs {
  std::vector<float> kernel;
  std::vector<float> reference;
};

struct KernelCase {
  std::string name;  // op, shape and dtype, e.g. "rmsnorm 7x1000 f32"
  double bound = 0;  // largest normalized error that passes
  // Makes the inputs (seeded), runs both sides; an error fails the case.
  std::function<Result<CaseOutputs>()> run;
};

// Normalized-error bounds by the dtype the data passes through. Inputs are
// rounded to the dtype on both sides, so `f32_bound` (summation order,
// device transcendental functions) holds for every dtype; the half types get
// 5x more room for kernels that feed f16/bf16 products to tensor cores.
double BoundFor(KvDtype dtype, double f32_bound);

std::vector<KernelCase> RmsNormCases();
std::vector<KernelCase> SwigluCases();
std::vector<KernelCase> RopeCases();

}  // namespace tierkv::kernels::testing
