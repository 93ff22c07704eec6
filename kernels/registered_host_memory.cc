#include "kernels/registered_host_memory.h"

#include <cuda_runtime_api.h>

#include <utility>

#include "kernels/cuda_util.h"

namespace tierkv::kernels {

Result<RegisteredHostMemory> RegisteredHostMemory::Register(std::span<std::byte> host) {
  if (host.empty()) return Status::InvalidArgument("cannot register an empty host region");
  // CudaStatus clears the thread's last error on failure: the caller may well
  // go on without the registration.
  TIERKV_RETURN_IF_ERROR(CudaStatus(
      cudaHostRegister(host.data(), host.size(), cudaHostRegisterMapped), "cudaHostRegister"));
  RegisteredHostMemory registered;
  registered.host_ = host;  // from here on the destructor unregisters
  void* device = nullptr;
  TIERKV_RETURN_IF_ERROR(
      CudaStatus(cudaHostGetDevicePointer(&device, host.data(), 0), "cudaHostGetDevicePointer"));
  registered.device_ = static_cast<std::byte*>(device);
  return registered;
}

RegisteredHostMemory::RegisteredHostMemory(RegisteredHostMemory&& other) noexcept
    : host_(std::exchange(other.host_, {})), device_(std::exchange(other.device_, nullptr)) {}

RegisteredHostMemory& RegisteredHostMemory::operator=(RegisteredHostMemory&& other) noexcept {
  if (this != &other) {
    Reset();
    host_ = std::exchange(other.host_, {});
    device_ = std::exchange(other.device_, nullptr);
  }
  return *this;
}

RegisteredHostMemory::~RegisteredHostMemory() { Reset(); }

bool RegisteredHostMemory::Contains(std::span<const std::byte> bytes) const {
  if (host_.empty() || bytes.empty()) return false;
  const std::byte* begin = host_.data();
  const std::byte* end = begin + host_.size();
  return bytes.data() >= begin && bytes.data() <= end &&
         bytes.size() <= static_cast<size_t>(end - bytes.data());
}

void RegisteredHostMemory::Reset() {
  // cudaHostUnregister's error cannot be reported from a destructor; the
  // registration is gone with the context either way.
  if (!host_.empty()) IgnoreCudaError(cudaHostUnregister(host_.data()));
  host_ = {};
  device_ = nullptr;
}

}  // namespace tierkv::kernels
