#include "kernels/cublas_matmul.h"

#include <cublas_v2.h>

#include <string>

#include "kernels/cuda_util.h"

namespace tierkv::kernels {
namespace {

Status CublasStatus(cublasStatus_t status, std::string_view context) {
  if (status == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  std::string msg = std::string(context) + ": " + cublasGetStatusName(status) + " (" +
                    cublasGetStatusString(status) + ")";
  if (status == CUBLAS_STATUS_NOT_INITIALIZED) return Status::Unavailable(msg);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) return Status::ResourceExhausted(msg);
  if (status == CUBLAS_STATUS_INVALID_VALUE) return Status::InvalidArgument(msg);
  return Status::Internal(msg);
}

cudaDataType_t ToCudaType(GemmDtype dtype) {
  switch (dtype) {
    case GemmDtype::kF16:
      return CUDA_R_16F;
    case GemmDtype::kBf16:
      return CUDA_R_16BF;
    case GemmDtype::kF32:
      break;
  }
  return CUDA_R_32F;
}

}  // namespace

struct CublasMatMul::Handle {
  cublasHandle_t handle = nullptr;
  ~Handle() {
    if (handle != nullptr) (void)cublasDestroy(handle);
  }
};

CublasMatMul::CublasMatMul(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
CublasMatMul::CublasMatMul(CublasMatMul&&) noexcept = default;
CublasMatMul& CublasMatMul::operator=(CublasMatMul&&) noexcept = default;
CublasMatMul::~CublasMatMul() = default;

Result<CublasMatMul> CublasMatMul::Create(cudaStream_t stream) {
  TIERKV_ASSIGN_OR_RETURN(int devices, CudaDeviceCount());
  (void)devices;
  auto handle = std::make_unique<Handle>();
  TIERKV_RETURN_IF_ERROR(CublasStatus(cublasCreate(&handle->handle), "cublasCreate"));
  TIERKV_RETURN_IF_ERROR(CublasStatus(cublasSetStream(handle->handle, stream), "cublasSetStream"));
  return CublasMatMul(std::move(handle));
}

Status CublasMatMul::MatMul(GemmDtype dtype, const void* x, int ldx, const void* w, float* y,
                            int ldy, int m, int n, int k, bool accumulate) {
  if (m < 0 || n < 0 || k < 0 || ldx < k || ldy < n) {
    return Status::InvalidArgument("matmul: negative size, or a leading dimension below k or n");
  }
  if (m == 0 || n == 0) return Status::Ok();
  if (x == nullptr || w == nullptr || y == nullptr) {
    return Status::InvalidArgument("matmul: null pointer");
  }
  // cuBLAS is column-major. Row-major y[m][n] seen column-major is y^T (n x m),
  // and y^T = w x^T: w ([n][k] row-major) is a k x n column-major matrix, used
  // transposed; x ([m][k] row-major) is k x m column-major, used as is.
  const float alpha = 1.0f;
  const float beta = accumulate ? 1.0f : 0.0f;
  const cudaDataType_t type = ToCudaType(dtype);
  return CublasStatus(
      cublasGemmEx(handle_->handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, w, type, k, x, type,
                   ldx, &beta, y, CUDA_R_32F, ldy, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
      "cublasGemmEx");
}

}  // namespace tierkv::kernels
