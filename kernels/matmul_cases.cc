// The CPU side of the harness for matrix products: MatMulRef (OpenBLAS
// sgemm, or sgemv for one row) against a double-precision loop.
#include <string>
#include <vector>

#include "kernels/kernel_cases.h"
#include "kernels/matmul_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels::testing {
namespace {

// f32 summation order only, growing with sqrt(k).
constexpr double kMatMulBound = 1e-5;

struct GemmShape {
  int m, n, k;
};

std::vector<float> MatMulByLoop(const std::vector<float>& x, const std::vector<float>& w,
                                std::vector<float> y, const GemmShape& s, bool accumulate) {
  for (int i = 0; i < s.m; ++i) {
    for (int j = 0; j < s.n; ++j) {
      double acc = accumulate ? y[static_cast<size_t>(i) * s.n + j] : 0.0;
      for (int l = 0; l < s.k; ++l) {
        acc += static_cast<double>(x[static_cast<size_t>(i) * s.k + l]) *
               w[static_cast<size_t>(j) * s.k + l];
      }
      y[static_cast<size_t>(i) * s.n + j] = static_cast<float>(acc);
    }
  }
  return y;
}

}  // namespace

std::vector<KernelCase> MatMulRefCases() {
  std::vector<KernelCase> cases;
  uint64_t seed = 500;
  for (const GemmShape& s : {GemmShape{1, 4096, 512}, GemmShape{37, 300, 257}, GemmShape{5, 7, 33},
                             GemmShape{64, 128, 1024}}) {
    for (bool accumulate : {false, true}) {
      const uint64_t sd = seed;
      seed += 3;
      cases.push_back(
          {"matmul ref " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
               std::to_string(s.k) + (accumulate ? " +=" : "") + " f32",
           kMatMulBound, [s, accumulate, sd]() -> Result<CaseOutputs> {
             const auto x = RandomVector(static_cast<size_t>(s.m) * s.k, sd);
             const auto w = RandomVector(static_cast<size_t>(s.n) * s.k, sd + 1);
             std::vector<float> y = RandomVector(static_cast<size_t>(s.m) * s.n, sd + 2);
             CaseOutputs out;
             out.reference = MatMulByLoop(x, w, y, s, accumulate);
             MatMulRef(x.data(), s.k, w.data(), y.data(), s.n, s.m, s.n, s.k, accumulate);
             out.kernel = std::move(y);
             return out;
           }});
    }
  }
  return cases;
}

}  // namespace tierkv::kernels::testing
