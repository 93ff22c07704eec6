#include "matmul_ref.h"

#include <cblas.h>

namespace tierkv::kernels {

void MatMulRef(const float* x, int ldx, const float* w, float* y, int ldy, int m, int n, int k,
               bool accumulate) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, ldx, w, k,
              accumulate ? 1.0f : 0.0f, y, ldy);
}

}  // namespace tierkv::kernels
