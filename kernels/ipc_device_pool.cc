#include "kernels/ipc_device_pool.h"

#include <cuda_runtime_api.h>

#include <cctype>
#include <cstring>
#include <utility>

#include "kernels/cuda_util.h"

namespace tierkv::kernels {
namespace {

bool SameBusId(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<IpcDevicePool> IpcDevicePool::Open(const std::string& ipc_handle,
                                          const std::string& pci_bus_id, uint64_t bytes) {
  cudaIpcMemHandle_t handle;
  if (ipc_handle.size() != sizeof handle) {
    return Status::InvalidArgument("CUDA IPC handle of " + std::to_string(ipc_handle.size()) +
                                   " bytes, expected " + std::to_string(sizeof handle));
  }
  int device = 0;
  TIERKV_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
  char bus_id[32] = {};
  TIERKV_CUDA_RETURN_IF_ERROR(cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, device));
  if (!SameBusId(bus_id, pci_bus_id)) {
    return Status::Unavailable("the device pool is on the GPU at bus " + pci_bus_id +
                               "; this process runs on bus " + bus_id);
  }
  std::memcpy(&handle, ipc_handle.data(), sizeof handle);
  void* base = nullptr;
  // The caller goes on without the pool; CudaStatus has cleared the error.
  TIERKV_RETURN_IF_ERROR(CudaStatus(
      cudaIpcOpenMemHandle(&base, handle, cudaIpcMemLazyEnablePeerAccess), "cudaIpcOpenMemHandle"));
  IpcDevicePool pool;
  pool.base_ = static_cast<std::byte*>(base);
  pool.bytes_ = bytes;
  return pool;
}

IpcDevicePool::IpcDevicePool(IpcDevicePool&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

IpcDevicePool& IpcDevicePool::operator=(IpcDevicePool&& other) noexcept {
  if (this != &other) {
    Reset();
    base_ = std::exchange(other.base_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

IpcDevicePool::~IpcDevicePool() { Reset(); }

void IpcDevicePool::Reset() {
  if (base_ != nullptr) IgnoreCudaError(cudaIpcCloseMemHandle(base_));
  base_ = nullptr;
  bytes_ = 0;
}

}  // namespace tierkv::kernels
