#include "tiers/gpu/testing/host_backed_device_memory.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace tierkv::testing {

HostBackedDeviceMemory::HostBackedDeviceMemory(uint64_t bytes)
    : bytes_(bytes), event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

HostBackedDeviceMemory::~HostBackedDeviceMemory() {
  if (event_fd_ >= 0) ::close(event_fd_);
}

Status HostBackedDeviceMemory::CheckRange(uint64_t offset, uint64_t n) const {
  if (offset > bytes_.size() || n > bytes_.size() - offset) {
    return Status::InvalidArgument("copy outside the GPU pool");
  }
  return Status::Ok();
}

Status HostBackedDeviceMemory::CopyToDeviceAsync(uint64_t offset, const std::byte* src, uint64_t n,
                                                 Callback done) {
  TIERKV_RETURN_IF_ERROR(CheckRange(offset, n));
  pending_.push_back({offset, src, n, std::move(done)});
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof one);
  return Status::Ok();
}

Status HostBackedDeviceMemory::CopyToDevice(uint64_t offset, const std::byte* src, uint64_t n) {
  TIERKV_RETURN_IF_ERROR(CheckRange(offset, n));
  std::memcpy(bytes_.data() + offset, src, n);
  return Status::Ok();
}

Status HostBackedDeviceMemory::CopyToHost(uint64_t offset, std::byte* dst, uint64_t n) {
  TIERKV_RETURN_IF_ERROR(CheckRange(offset, n));
  std::memcpy(dst, bytes_.data() + offset, n);
  return Status::Ok();
}

void HostBackedDeviceMemory::ReapCompletions() {
  uint64_t counter;
  while (::read(event_fd_, &counter, sizeof counter) > 0) {
  }
  while (!pending_.empty()) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    if (fail_next_ > 0) {
      --fail_next_;
      p.done(Status::Internal("injected GPU copy failure"));
      continue;
    }
    std::memcpy(bytes_.data() + p.offset, p.src, p.n);
    p.done(Status::Ok());
  }
}

Result<DevicePoolExport> HostBackedDeviceMemory::Export() const {
  return Status::Unsupported("host-backed test memory cannot be shared with other processes");
}

}  // namespace tierkv::testing
