// Device memory as the GPU tier sees it: one flat pool it copies host bytes
// into and out of, and can export to other processes.
//
// CudaDeviceMemory (cuda_device_memory.h) is the real one: a cudaMalloc pool,
// a copy stream of its own and a CUDA IPC handle. Tests of the daemon's tier
// logic use testing/host_backed_device_memory.h, which keeps the bytes in host
// memory and says so in its description; it proves placement and LRU rules,
// never anything about a GPU.
//
// Thread safety: one thread drives a DeviceMemory (the daemon's event loop);
// completion callbacks run on that thread, from ReapCompletions().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "tierkv/status.h"

namespace tierkv {

// What another process needs to reach the pool: the device it lives on and
// an opaque handle (cudaIpcMemHandle_t bytes) to open it with.
struct DevicePoolExport {
  int device = 0;
  std::string pci_bus_id;
  std::string ipc_handle;
  uint64_t bytes = 0;
};

class DeviceMemory {
 public:
  using Callback = std::function<void(Status)>;
  virtual ~DeviceMemory() = default;

  virtual uint64_t size() const = 0;
  // The device, for logs and stats ("NVIDIA H100 80GB HBM3, device 0, bus ...").
  virtual std::string description() const = 0;

  // Starts copying n bytes from host memory to `offset`. `src` must stay
  // unchanged until `done` has run (from ReapCompletions()). Copies complete
  // in the order they were started.
  virtual Status CopyToDeviceAsync(uint64_t offset, const std::byte* src, uint64_t n,
                                   Callback done) = 0;
  // Synchronous copies, waiting for the copies started before them.
  virtual Status CopyToDevice(uint64_t offset, const std::byte* src, uint64_t n) = 0;
  virtual Status CopyToHost(uint64_t offset, std::byte* dst, uint64_t n) = 0;

  // Becomes readable when completions wait to be reaped.
  virtual int event_fd() const = 0;
  // Runs the callbacks of every completed asynchronous copy.
  virtual void ReapCompletions() = 0;
  // Waits for every asynchronous copy and runs its callback.
  virtual void Drain() = 0;
  virtual size_t copies_in_flight() const = 0;

  virtual Result<DevicePoolExport> Export() const = 0;
};

}  // namespace tierkv
