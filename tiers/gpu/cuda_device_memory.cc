#include "tiers/gpu/cuda_device_memory.h"

#include <cuda_runtime_api.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include "kernels/cuda_util.h"

namespace tierkv {
namespace {

using kernels::CudaStatus;

class CudaDeviceMemory final : public DeviceMemory {
 public:
  ~CudaDeviceMemory() override {
    if (stream_) {
      Drain();
      cudaStreamDestroy(stream_);
    }
    for (cudaEvent_t e : free_events_) cudaEventDestroy(e);
    if (base_) cudaFree(base_);
    if (event_fd_ >= 0) ::close(event_fd_);
  }

  Status Open(int device, uint64_t bytes) {
    device_ = device;
    bytes_ = bytes;
    TIERKV_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device), "cudaSetDevice"));
    cudaDeviceProp prop{};
    TIERKV_RETURN_IF_ERROR(CudaStatus(cudaGetDeviceProperties(&prop, device), "device properties"));
    char bus_id[32] = {};
    TIERKV_RETURN_IF_ERROR(CudaStatus(cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, device),
                                      "cudaDeviceGetPCIBusId"));
    bus_id_ = bus_id;
    name_ = prop.name;
    TIERKV_RETURN_IF_ERROR(CudaStatus(cudaMalloc(&base_, bytes), "cudaMalloc of the GPU pool"));
    TIERKV_RETURN_IF_ERROR(
        CudaStatus(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "copy stream"));
    cudaIpcMemHandle_t handle;
    TIERKV_RETURN_IF_ERROR(CudaStatus(cudaIpcGetMemHandle(&handle, base_), "cudaIpcGetMemHandle"));
    ipc_handle_.assign(reinterpret_cast<const char*>(&handle), sizeof handle);
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) return Status::Internal("eventfd for GPU copies failed");
    return Status::Ok();
  }

  uint64_t size() const override { return bytes_; }
  std::string description() const override {
    return name_ + ", device " + std::to_string(device_) + ", bus " + bus_id_;
  }

  Status CopyToDeviceAsync(uint64_t offset, const std::byte* src, uint64_t n,
                           Callback done) override {
    TIERKV_RETURN_IF_ERROR(CheckRange(offset, n));
    cudaEvent_t event;
    TIERKV_ASSIGN_OR_RETURN(event, TakeEvent());
    Status s = CudaStatus(cudaMemcpyAsync(At(offset), src, n, cudaMemcpyHostToDevice, stream_),
                          "GPU tier copy in");
    if (s.ok()) s = CudaStatus(cudaEventRecord(event, stream_), "cudaEventRecord");
    // The host function only signals the eventfd: CUDA calls are not allowed there.
    if (s.ok()) s = CudaStatus(cudaLaunchHostFunc(stream_, &SignalEventFd, this), "host func");
    if (!s.ok()) {
      free_events_.push_back(event);
      return s;
    }
    pending_.push_back({event, std::move(done)});
    return Status::Ok();
  }

  Status CopyToDevice(uint64_t offset, const std::byte* src, uint64_t n) override {
    TIERKV_RETURN_IF_ERROR(CheckRange(offset, n));
    TIERKV_RETURN_IF_ERROR(CudaStatus(
        cudaMemcpyAsync(At(offset), src, n, cudaMemcpyHostToDevice, stream_), "GPU tier write"));
    return CudaStatus(cudaStreamSynchronize(stream_), "GPU tier write");
  }

  Status CopyToHost(uint64_t offset, std::byte* dst, uint64_t n) override {
    TIERKV_RETURN_IF_ERROR(CheckRange(offset, n));
    TIERKV_RETURN_IF_ERROR(CudaStatus(
        cudaMemcpyAsync(dst, At(offset), n, cudaMemcpyDeviceToHost, stream_), "GPU tier read"));
    return CudaStatus(cudaStreamSynchronize(stream_), "GPU tier read");
  }

  int event_fd() const override { return event_fd_; }

  void ReapCompletions() override {
    uint64_t counter;
    while (::read(event_fd_, &counter, sizeof counter) > 0) {
    }
    // One stream: copies complete in order, so the first pending copy that
    // is not done ends the scan.
    while (!pending_.empty()) {
      const cudaError_t err = cudaEventQuery(pending_.front().event);
      if (err == cudaErrorNotReady) break;
      Pending p = std::move(pending_.front());
      pending_.pop_front();
      free_events_.push_back(p.event);
      p.done(CudaStatus(err, "GPU tier copy in"));
    }
  }

  void Drain() override {
    (void)cudaStreamSynchronize(stream_);
    ReapCompletions();
  }

  size_t copies_in_flight() const override { return pending_.size(); }

  Result<DevicePoolExport> Export() const override {
    return DevicePoolExport{device_, bus_id_, ipc_handle_, bytes_};
  }

 private:
  struct Pending {
    cudaEvent_t event;
    Callback done;
  };

  static void SignalEventFd(void* self) {
    const uint64_t one = 1;
    (void)!::write(static_cast<CudaDeviceMemory*>(self)->event_fd_, &one, sizeof one);
  }

  Status CheckRange(uint64_t offset, uint64_t n) const {
    if (offset > bytes_ || n > bytes_ - offset) {
      return Status::InvalidArgument("copy outside the GPU pool");
    }
    return Status::Ok();
  }

  Result<cudaEvent_t> TakeEvent() {
    if (!free_events_.empty()) {
      cudaEvent_t e = free_events_.back();
      free_events_.pop_back();
      return e;
    }
    cudaEvent_t e;
    TIERKV_RETURN_IF_ERROR(
        CudaStatus(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate"));
    return e;
  }

  void* At(uint64_t offset) const { return static_cast<char*>(base_) + offset; }

  int device_ = 0;
  uint64_t bytes_ = 0;
  std::string name_;
  std::string bus_id_;
  std::string ipc_handle_;
  void* base_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int event_fd_ = -1;
  std::deque<Pending> pending_;
  std::vector<cudaEvent_t> free_events_;
};

class CudaHostRegistration final : public HostMemoryRegistration {
 public:
  explicit CudaHostRegistration(void* base) : base_(base) {}
  ~CudaHostRegistration() override { cudaHostUnregister(base_); }

 private:
  void* base_;
};

}  // namespace

Result<std::unique_ptr<DeviceMemory>> OpenCudaDeviceMemory(int device, uint64_t bytes) {
  TIERKV_ASSIGN_OR_RETURN(const int devices, kernels::CudaDeviceCount());
  if (device < 0 || device >= devices) {
    return Status::InvalidArgument("gpu_device " + std::to_string(device) + " does not exist (" +
                                   std::to_string(devices) + " CUDA devices)");
  }
  auto memory = std::make_unique<CudaDeviceMemory>();
  TIERKV_RETURN_IF_ERROR(memory->Open(device, bytes));
  return std::unique_ptr<DeviceMemory>(std::move(memory));
}

Result<std::unique_ptr<HostMemoryRegistration>> RegisterHostMemory(std::span<std::byte> memory) {
  TIERKV_RETURN_IF_ERROR(CudaStatus(
      cudaHostRegister(memory.data(), memory.size(), cudaHostRegisterDefault), "cudaHostRegister"));
  return std::unique_ptr<HostMemoryRegistration>(new CudaHostRegistration(memory.data()));
}

}  // namespace tierkv
