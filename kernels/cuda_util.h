// CUDA errors as Status, and a move-only owner of device memory.
//
// Every CUDA entry point of tierkv reports failure through Status: a CUDA
// error inside the daemon or the engine must never abort the process. The
// conversion from cudaError_t happens here and nowhere else.
// Thread safety: CudaStatus is pure; a DeviceBuffer is not shared between threads.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string_view>

#include "tierkv/status.h"

namespace tierkv::kernels {

// OK for cudaSuccess; otherwise Unavailable for "no device / no driver"
// errors, ResourceExhausted for a failed allocation and Internal for the
// rest, the message naming `context` and the CUDA error string. A failure
// also clears the thread's last error (cudaGetLastError), so the failure is
// reported here, once, and never again by the next LaunchStatus.
Status CudaStatus(cudaError_t err, std::string_view context);

// For calls whose failure cannot be reported (destructors, clean-up on a path
// that already failed): drops `err` and clears the thread's last error for the
// same reason as CudaStatus.
void IgnoreCudaError(cudaError_t err);

// Status of the launch just made on this thread (cudaGetLastError), named
// after `kernel`. Every other CUDA call goes through CudaStatus or
// IgnoreCudaError, so the last error read here is this launch's own.
Status LaunchStatus(std::string_view kernel);

// Number of usable devices; Unavailable ("no CUDA device: <reason>") when there
// is none or the driver cannot be reached.
Result<int> CudaDeviceCount();

// Owns `bytes` of device memory from cudaMalloc; freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Result<DeviceBuffer> Allocate(size_t bytes);
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  void* get() const { return ptr_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t size() const { return bytes_; }

 private:
  void Reset();
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Owns page-locked host memory from cudaMallocHost; freed on destruction.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  static Result<PinnedBuffer> Allocate(size_t bytes);
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer();

  void* get() const { return ptr_; }
  size_t size() const { return bytes_; }

 private:
  void Reset();
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace tierkv::kernels

// Returns the Status of a CUDA runtime call from the enclosing function when it fails.
#define TIERKV_CUDA_RETURN_IF_ERROR(call) \
  TIERKV_RETURN_IF_ERROR(::tierkv::kernels::CudaStatus((call), #call))
