// Matrix product with weights stored as GGUF/ggml stores them: one row per
// output feature. y[m][n] = sum_k x[m][k] * w[n][k]. Runs on BLAS (sgemm), which
// spreads the work over every core OpenBLAS is allowed to use.
#pragma once

namespace tierkv::kernels {

// `x` is [m][k] (rows `ldx` apart), `w` is [n][k], `y` is [m][n] (rows `ldy`
// apart). With `accumulate`, y += x w^T instead of y = x w^T.
void MatMulRef(const float* x, int ldx, const float* w, float* y, int ldy, int m, int n, int k,
               bool accumulate);

}  // namespace tierkv::kernels
