// Another process's device memory pool (tierkvd's GPU tier), opened in this
// process through its CUDA IPC handle so kernels read it in place. Closed on
// destruction; the exporting process keeps owning the memory.
//
// Thread safety: none needed after Open(); the object is read-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tierkv/status.h"

namespace tierkv::kernels {

class IpcDevicePool {
 public:
  IpcDevicePool() = default;
  // Opens the pool on the current device. InvalidArgument for a handle of the
  // wrong size; Unavailable when the pool lives on another GPU than this
  // process's current device (`pci_bus_id` differs); CudaStatus's errors
  // when CUDA cannot open it.
  static Result<IpcDevicePool> Open(const std::string& ipc_handle, const std::string& pci_bus_id,
                                    uint64_t bytes);
  IpcDevicePool(IpcDevicePool&& other) noexcept;
  IpcDevicePool& operator=(IpcDevicePool&& other) noexcept;
  IpcDevicePool(const IpcDevicePool&) = delete;
  IpcDevicePool& operator=(const IpcDevicePool&) = delete;
  ~IpcDevicePool();

  bool empty() const { return base_ == nullptr; }
  uint64_t bytes() const { return bytes_; }
  // Whether [offset, offset + n) lies inside the pool.
  bool Contains(uint64_t offset, uint64_t n) const {
    return offset <= bytes_ && n <= bytes_ - offset;
  }
  const std::byte* at(uint64_t offset) const { return base_ + offset; }

 private:
  void Reset();
  std::byte* base_ = nullptr;
  uint64_t bytes_ = 0;
};

}  // namespace tierkv::kernels
