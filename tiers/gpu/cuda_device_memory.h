// The GPU tier's real device memory (CUDA), and page-locking of the host pool.
//
// Both exist in every build: without CUDA support (or without a device) they
// return Unavailable with the reason, which the daemon logs once as "gpu tier:
// off (...)".
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "tiers/gpu/device_memory.h"

namespace tierkv {

// cudaMalloc's `bytes` on `device`, a non-blocking copy stream, an eventfd
// that a host function on that stream signals after each asynchronous copy,
// and a CUDA IPC handle for the whole pool.
Result<std::unique_ptr<DeviceMemory>> OpenCudaDeviceMemory(int device, uint64_t bytes);

// Page-locks host memory for DMA (cudaHostRegister) until destroyed, so that
// copies from it run asynchronously at full PCIe speed.
class HostMemoryRegistration {
 public:
  virtual ~HostMemoryRegistration() = default;
};
Result<std::unique_ptr<HostMemoryRegistration>> RegisterHostMemory(std::span<std::byte> memory);

}  // namespace tierkv
