// A DeviceMemory whose "device" bytes are host memory, for tests of the
// daemon's GPU-tier logic (placement, LRU, inclusion, pins) on machines
// without a GPU. It says what it is in description() and Export() fails, so
// nothing can mistake it for a GPU. Asynchronous copies complete only when
// ReapCompletions() runs, as real ones complete later than they start;
// FailNextCopies() makes copies fail, as a device error would.
#pragma once

#include <deque>
#include <vector>

#include "tiers/gpu/device_memory.h"

namespace tierkv::testing {

class HostBackedDeviceMemory final : public DeviceMemory {
 public:
  explicit HostBackedDeviceMemory(uint64_t bytes);
  ~HostBackedDeviceMemory() override;

  uint64_t size() const override { return bytes_.size(); }
  std::string description() const override { return "host-backed test memory (no GPU)"; }
  Status CopyToDeviceAsync(uint64_t offset, const std::byte* src, uint64_t n,
                           Callback done) override;
  Status CopyToDevice(uint64_t offset, const std::byte* src, uint64_t n) override;
  Status CopyToHost(uint64_t offset, std::byte* dst, uint64_t n) override;
  int event_fd() const override { return event_fd_; }
  void ReapCompletions() override;
  void Drain() override { ReapCompletions(); }
  size_t copies_in_flight() const override { return pending_.size(); }
  Result<DevicePoolExport> Export() const override;

  void FailNextCopies(int n) { fail_next_ = n; }

 private:
  struct Pending {
    uint64_t offset;
    const std::byte* src;
    uint64_t n;
    Callback done;
  };
  Status CheckRange(uint64_t offset, uint64_t n) const;

  std::vector<std::byte> bytes_;
  std::deque<Pending> pending_;
  int event_fd_ = -1;
  int fail_next_ = 0;
};

}  // namespace tierkv::testing
