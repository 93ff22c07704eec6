#include "kernels/matmul_ref.h"

#include <cblas.h>

#include "kernels/blas_setup.h"

namespace tierkv::kernels {

void MatMulRef(const float* x, int ldx, const float* w, float* y, int ldy, int m, int n, int k,
               bool accumulate) {
  EnsureBlasSetUp();
  const float beta = accumulate ? 1.0f : 0.0f;
  if (m == 1) {
    // One row (decode): gemv streams the weights once, without sgemm's packing.
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, w, k, x, 1, beta, y, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, ldx, w, k, beta, y, ldy);
}

}  // namespace tierkv::kernels
