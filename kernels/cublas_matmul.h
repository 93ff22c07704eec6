// Matrix products on the GPU through cuBLAS, with MatMulRef's contract
// (matmul_ref.h): weights stored one row per output feature, y[m][n] =
// sum_k x[m][k] * w[n][k], row-major, optionally accumulating into y.
//
// Thread safety: a CublasMatMul (one cuBLAS handle bound to one stream) is
// used by one thread at a time.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>

#include "tierkv/status.h"

namespace tierkv::kernels {

// Element type of x and w; y and the accumulation are always f32.
enum class GemmDtype : uint8_t { kF32 = 0, kF16 = 1, kBf16 = 2 };

class CublasMatMul {
 public:
  // A handle whose products run on `stream`. Unavailable without a device.
  static Result<CublasMatMul> Create(cudaStream_t stream);
  CublasMatMul(CublasMatMul&&) noexcept;
  CublasMatMul& operator=(CublasMatMul&&) noexcept;
  ~CublasMatMul();

  // `x` is [m][k] (rows `ldx` apart), `w` is [n][k], both of `dtype`; `y` is
  // [m][n] f32 (rows `ldy` apart). Device pointers. With `accumulate`,
  // y += x w^T. F32 inputs use full f32 math (no TF32), so the result can be
  // compared with MatMulRef at f32 precision.
  Status MatMul(GemmDtype dtype, const void* x, int ldx, const void* w, float* y, int ldy, int m,
                int n, int k, bool accumulate);

 private:
  struct Handle;
  explicit CublasMatMul(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

}  // namespace tierkv::kernels
