// cuda_device_memory.h for builds without CUDA: the GPU tier is off.
#include "tiers/gpu/cuda_device_memory.h"

namespace tierkv {

Result<std::unique_ptr<DeviceMemory>> OpenCudaDeviceMemory(int, uint64_t) {
  return Status::Unavailable("this build has no CUDA support");
}

Result<std::unique_ptr<HostMemoryRegistration>> RegisterHostMemory(std::span<std::byte>) {
  return Status::Unavailable("this build has no CUDA support");
}

}  // namespace tierkv
