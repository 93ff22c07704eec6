// UringEngine: the IoEngine of the NVMe tier, on liburing.
//
// Every request holds one of `queue_depth` staging buffers: aligned,
// `max_io_bytes` long, registered with io_uring_register_buffers so the kernel
// maps them once instead of on every request (READ_FIXED / WRITE_FIXED). When
// the process may not lock that much memory the buffers stay unregistered and
// plain READ / WRITE are used; a warning says so. A request that finds no free
// buffer waits in FIFO order; at most `queue_depth` requests are in the kernel.
// A request whose own buffer is page-aligned skips the staging copy (see
// direct_aligned_buffers) but still holds a buffer, as its queue slot.
//
// Writes are durable when their callback runs (see WriteDurability). The
// completion queue signals an eventfd (io_uring_register_eventfd).
//
// Thread safety: not thread-safe (see io_engine.h).
#pragma once

#include <liburing.h>

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "tiers/nvme/file_system.h"
#include "tiers/nvme/io_engine.h"

namespace tierkv::nvme {

enum class WriteDurability {
  kNone,       // O_DIRECT only: data reached the device, maybe only its volatile cache
  kDsync,      // RWF_DSYNC on each write: durable per request, one op
  kFdatasync,  // each write linked to an fdatasync: two ops per request
  // Writes go out as kNone; their owner makes a whole batch durable with one
  // SubmitSync per file (group commit). The NvmeStore's default.
  kGroupSync,
};

struct UringEngineOptions {
  // Staging buffers, hence the most requests in the kernel at once. Default 32.
  uint32_t queue_depth = 32;
  // Size of each staging buffer, the largest request. Default 4 MiB.
  size_t max_io_bytes = size_t{4} << 20;
  WriteDurability durability = WriteDurability::kDsync;
  // When the caller's buffer is 4096-aligned and the length a multiple of 4096,
  // the kernel reads or writes it directly instead of a staging buffer: saves
  // a memcpy per request (the staging buffer still bounds the queue depth).
  // Default true.
  bool direct_aligned_buffers = true;
};

class UringEngine final : public IoEngine {
 public:
  // Sets up the ring, the buffers and the eventfd. Fails with the OS's reason.
  static Result<std::unique_ptr<UringEngine>> Create(const UringEngineOptions& options);
  // Waits for the requests in the kernel (their callbacks do not run), then
  // tears the ring down: the kernel must not write into freed buffers.
  ~UringEngine() override;

  void SubmitWrite(IoTarget target, const std::byte* src, size_t len, IoCallback done) override;
  void SubmitRead(IoTarget target, std::byte* dst, size_t len, IoCallback done) override;
  void SubmitSync(int fd, IoCallback done) override;
  size_t ReapCompletions() override;
  size_t WaitAndReap() override;
  int event_fd() const override { return event_fd_.get(); }
  size_t outstanding() const override { return outstanding_; }
  size_t in_flight() const override { return in_flight_; }
  size_t max_io_bytes() const override { return options_.max_io_bytes; }

  bool buffers_registered() const { return buffers_registered_; }

 private:
  struct Request;

  explicit UringEngine(const UringEngineOptions& options);
  Status Init();
  void Enqueue(std::unique_ptr<Request> request);
  // Hands `request` to the kernel in staging buffer `buffer` (-1 for a sync).
  void Start(std::unique_ptr<Request> request, int buffer);
  void Submit();
  void StartWaiting();
  // Queues a callback to run at the next reap and signals the eventfd.
  void Defer(IoCallback done, Status status);
  void SignalEventFd();
  void DrainEventFd();
  std::byte* buffer(int index) const { return buffers_ + size_t(index) * options_.max_io_bytes; }

  UringEngineOptions options_;
  io_uring ring_{};
  bool ring_ready_ = false;
  bool buffers_registered_ = false;
  UniqueFd event_fd_;
  std::byte* buffers_ = nullptr;  // queue_depth * max_io_bytes, kIoAlignment-aligned
  std::vector<int> free_buffers_;
  std::deque<std::unique_ptr<Request>> waiting_;  // no buffer yet
  std::vector<std::pair<IoCallback, Status>> deferred_;
  size_t outstanding_ = 0;
  size_t in_flight_ = 0;
};

}  // namespace tierkv::nvme
