#include "kernels/cuda_util.h"

#include <string>
#include <utility>

namespace tierkv::kernels {

Status CudaStatus(cudaError_t err, std::string_view context) {
  if (err == cudaSuccess) return Status::Ok();
  (void)cudaGetLastError();
  std::string msg =
      std::string(context) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver ||
      err == cudaErrorInitializationError || err == cudaErrorDevicesUnavailable) {
    return Status::Unavailable(msg);
  }
  if (err == cudaErrorMemoryAllocation) return Status::ResourceExhausted(msg);
  return Status::Internal(msg);
}

void IgnoreCudaError(cudaError_t err) {
  if (err != cudaSuccess) (void)cudaGetLastError();
}

Status LaunchStatus(std::string_view kernel) {
  return CudaStatus(cudaGetLastError(), std::string("launch ") + std::string(kernel));
}

Result<int> CudaDeviceCount() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    IgnoreCudaError(err);
    return Status::Unavailable(std::string("no CUDA device: ") + cudaGetErrorString(err));
  }
  if (count == 0) return Status::Unavailable("no CUDA device: cudaGetDeviceCount returned 0");
  return count;
}

Result<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes) {
  DeviceBuffer buf;
  if (bytes == 0) return buf;
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMalloc(&buf.ptr_, bytes));
  buf.bytes_ = bytes;
  return buf;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    Reset();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() { Reset(); }

void DeviceBuffer::Reset() {
  // cudaFree's error cannot be reported from a destructor; the memory is gone
  // with the context either way.
  if (ptr_ != nullptr) IgnoreCudaError(cudaFree(ptr_));
  ptr_ = nullptr;
  bytes_ = 0;
}

Result<PinnedBuffer> PinnedBuffer::Allocate(size_t bytes) {
  PinnedBuffer buf;
  if (bytes == 0) return buf;
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMallocHost(&buf.ptr_, bytes));
  buf.bytes_ = bytes;
  return buf;
}

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
  if (this != &other) {
    Reset();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

PinnedBuffer::~PinnedBuffer() { Reset(); }

void PinnedBuffer::Reset() {
  if (ptr_ != nullptr) IgnoreCudaError(cudaFreeHost(ptr_));
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace tierkv::kernels
