#include "tiers/nvme/uring_engine.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tierkv::nvme {

// One block read or write. Owned by the engine's queues until it reaches the
// kernel, then by the ring (its address is the CQE's user_data) until reaped.
struct UringEngine::Request {
  enum class Kind { kRead, kWrite, kSync };
  Kind kind = Kind::kRead;
  IoTarget target;
  const std::byte* src = nullptr;
  std::byte* dst = nullptr;
  size_t len = 0;
  IoCallback done;
  int buffer = -1;      // staging buffer; for a direct request only a queue slot
  bool direct = false;  // the kernel works on the caller's memory
  int pending_cqes = 0;
  Status status;  // the first failure among this request's CQEs
};

namespace {

// The low bit of user_data marks the data CQE of a request whose write is
// linked to an fdatasync; Request addresses are at least 8-byte aligned.
constexpr uint64_t kDataOpTag = 1;

}  // namespace

UringEngine::UringEngine(const UringEngineOptions& options) : options_(options) {}

Result<std::unique_ptr<UringEngine>> UringEngine::Create(const UringEngineOptions& options) {
  if (options.queue_depth == 0 || options.max_io_bytes == 0 ||
      options.max_io_bytes % kIoAlignment != 0) {
    return Status::InvalidArgument(
        "uring engine: queue_depth must be > 0 and max_io_bytes a "
        "positive multiple of 4096");
  }
  std::unique_ptr<UringEngine> engine(new UringEngine(options));
  TIERKV_RETURN_IF_ERROR(engine->Init());
  return engine;
}

Status UringEngine::Init() {
  // Linked fdatasync takes a second submission entry per request.
  unsigned entries = options_.queue_depth * 2;
  int ret = io_uring_queue_init(entries, &ring_, 0);
  if (ret < 0) return Status::FromErrno(-ret, "io_uring_queue_init");
  ring_ready_ = true;

  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return Status::FromErrno(errno, "eventfd");
  event_fd_ = UniqueFd(efd);
  ret = io_uring_register_eventfd(&ring_, efd);
  if (ret < 0) return Status::FromErrno(-ret, "io_uring_register_eventfd");

  size_t total = size_t(options_.queue_depth) * options_.max_io_bytes;
  buffers_ = static_cast<std::byte*>(std::aligned_alloc(kIoAlignment, total));
  if (buffers_ == nullptr) return Status::ResourceExhausted("uring engine: staging buffers");
  std::vector<iovec> iovecs(options_.queue_depth);
  for (uint32_t i = 0; i < options_.queue_depth; ++i) {
    iovecs[i] = iovec{buffer(int(i)), options_.max_io_bytes};
    free_buffers_.push_back(int(options_.queue_depth - 1 - i));
  }
  ret = io_uring_register_buffers(&ring_, iovecs.data(), unsigned(iovecs.size()));
  if (ret == 0) {
    buffers_registered_ = true;
  } else {
    spdlog::warn(
        "nvme: io_uring_register_buffers({} x {} bytes) failed: {}; using unregistered "
        "buffers (raise RLIMIT_MEMLOCK to register them)",
        options_.queue_depth, options_.max_io_bytes, std::strerror(-ret));
  }
  return Status::Ok();
}

UringEngine::~UringEngine() {
  if (ring_ready_) {
    // Retrieve every request still in the kernel before freeing its buffer.
    while (in_flight_ > 0) {
      io_uring_submit(&ring_);
      io_uring_cqe* cqe = nullptr;
      int ret = io_uring_wait_cqe(&ring_, &cqe);
      if (ret == -EINTR) continue;
      if (ret < 0) break;
      auto* r = reinterpret_cast<Request*>(cqe->user_data & ~kDataOpTag);
      io_uring_cqe_seen(&ring_, cqe);
      if (--r->pending_cqes == 0) {
        --in_flight_;
        delete r;
      }
    }
    io_uring_queue_exit(&ring_);
  }
  std::free(buffers_);
}

void UringEngine::SubmitWrite(IoTarget target, const std::byte* src, size_t len, IoCallback done) {
  auto r = std::make_unique<Request>();
  r->kind = Request::Kind::kWrite;
  r->target = target;
  r->src = src;
  r->len = len;
  r->done = std::move(done);
  Enqueue(std::move(r));
}

void UringEngine::SubmitRead(IoTarget target, std::byte* dst, size_t len, IoCallback done) {
  auto r = std::make_unique<Request>();
  r->target = target;
  r->dst = dst;
  r->len = len;
  r->done = std::move(done);
  Enqueue(std::move(r));
}

void UringEngine::SubmitSync(int fd, IoCallback done) {
  auto r = std::make_unique<Request>();
  r->kind = Request::Kind::kSync;
  r->target = IoTarget{fd, 0};
  r->done = std::move(done);
  ++outstanding_;
  if (fd < 0) {
    Defer(std::move(r->done), Status::InvalidArgument("uring engine: sync of no file"));
    return;
  }
  Start(std::move(r), -1);
}

void UringEngine::Enqueue(std::unique_ptr<Request> r) {
  ++outstanding_;
  if (r->len == 0 || r->len > options_.max_io_bytes || r->target.offset % kIoAlignment != 0 ||
      r->target.fd < 0) {
    Defer(std::move(r->done),
          Status::InvalidArgument("uring engine: request of " + std::to_string(r->len) +
                                  " bytes at offset " + std::to_string(r->target.offset) +
                                  " (limit " + std::to_string(options_.max_io_bytes) +
                                  " bytes, 4096-aligned offsets)"));
    return;
  }
  if (free_buffers_.empty() || !waiting_.empty()) {
    waiting_.push_back(std::move(r));
    return;
  }
  int b = free_buffers_.back();
  free_buffers_.pop_back();
  Start(std::move(r), b);
}

void UringEngine::Start(std::unique_ptr<Request> r, int b) {
  r->buffer = b;
  if (r->kind == Request::Kind::kSync) {
    // Not counted against queue_depth; the completion queue (4 x queue_depth
    // entries, and the kernel keeps overflow) has room for the extra entries.
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_fsync(sqe, r->target.fd, IORING_FSYNC_DATASYNC);
    Request* raw = r.release();
    io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(raw));
    raw->pending_cqes = 1;
    ++in_flight_;
    Submit();
    return;
  }
  const bool is_write = r->kind == Request::Kind::kWrite;
  const size_t io_len = RoundUpToIo(r->len);
  std::byte* user = is_write ? const_cast<std::byte*>(r->src) : r->dst;
  // An aligned caller buffer of whole pages is handed to the kernel as is: no
  // copy. Otherwise the request goes through its (registered) staging buffer.
  r->direct = options_.direct_aligned_buffers && r->len == io_len &&
              reinterpret_cast<uintptr_t>(user) % kIoAlignment == 0;
  std::byte* buf = r->direct ? user : buffer(b);
  const bool fixed = buffers_registered_ && !r->direct;
  if (is_write && !r->direct) {
    std::memcpy(buf, r->src, r->len);
    std::memset(buf + r->len, 0, io_len - r->len);
  }
  const bool linked_sync = is_write && options_.durability == WriteDurability::kFdatasync;
  // Two entries per request at most, and at most queue_depth requests are in
  // the kernel, so the ring (2 * queue_depth entries) always has room.
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (is_write) {
    if (fixed) {
      io_uring_prep_write_fixed(sqe, r->target.fd, buf, unsigned(io_len), r->target.offset, b);
    } else {
      io_uring_prep_write(sqe, r->target.fd, buf, unsigned(io_len), r->target.offset);
    }
    if (options_.durability == WriteDurability::kDsync) sqe->rw_flags = RWF_DSYNC;
  } else if (fixed) {
    io_uring_prep_read_fixed(sqe, r->target.fd, buf, unsigned(io_len), r->target.offset, b);
  } else {
    io_uring_prep_read(sqe, r->target.fd, buf, unsigned(io_len), r->target.offset);
  }
  Request* raw = r.release();
  io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(raw) | kDataOpTag);
  raw->pending_cqes = 1;
  if (linked_sync) {
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe* sync = io_uring_get_sqe(&ring_);
    io_uring_prep_fsync(sync, raw->target.fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(sync, reinterpret_cast<uint64_t>(raw));
    raw->pending_cqes = 2;
  }
  ++in_flight_;
  Submit();
}

void UringEngine::Submit() {
  int ret;
  do {
    ret = io_uring_submit(&ring_);
  } while (ret == -EINTR);
  if (ret < 0) {
    // The entries stay in the submission queue; the next submit retries them.
    spdlog::warn("nvme: io_uring_submit: {}", std::strerror(-ret));
  }
}

void UringEngine::StartWaiting() {
  while (!waiting_.empty() && !free_buffers_.empty()) {
    int b = free_buffers_.back();
    free_buffers_.pop_back();
    std::unique_ptr<Request> r = std::move(waiting_.front());
    waiting_.pop_front();
    Start(std::move(r), b);
  }
}

void UringEngine::Defer(IoCallback done, Status status) {
  deferred_.emplace_back(std::move(done), std::move(status));
  SignalEventFd();
}

void UringEngine::SignalEventFd() {
  uint64_t one = 1;
  // Only fails when the counter would overflow, and then it is readable anyway.
  [[maybe_unused]] ssize_t n = ::write(event_fd_.get(), &one, sizeof(one));
}

void UringEngine::DrainEventFd() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(event_fd_.get(), &count, sizeof(count));
}

size_t UringEngine::ReapCompletions() {
  // Clear the eventfd before looking at the queue: a completion posted after
  // the look signals it again, so none is ever left unannounced.
  DrainEventFd();
  std::vector<std::pair<IoCallback, Status>> ready = std::move(deferred_);
  deferred_.clear();

  io_uring_cqe* cqe;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    const bool data_op = (cqe->user_data & kDataOpTag) != 0;
    auto* r = reinterpret_cast<Request*>(cqe->user_data & ~kDataOpTag);
    const size_t io_len = RoundUpToIo(r->len);
    const char* what = r->kind == Request::Kind::kSync    ? "fdatasync"
                       : r->kind == Request::Kind::kWrite ? "write"
                                                          : "read";
    if (r->status.ok()) {
      if (cqe->res < 0) {
        r->status = Status::FromErrno(-cqe->res, std::string("io_uring ") + what + " at offset " +
                                                     std::to_string(r->target.offset));
      } else if (data_op && size_t(cqe->res) != io_len) {
        r->status = Status::IOError(std::string("short ") + what + ": " + std::to_string(cqe->res) +
                                    " of " + std::to_string(io_len) + " bytes at offset " +
                                    std::to_string(r->target.offset));
      }
    }
    if (--r->pending_cqes > 0) continue;
    std::unique_ptr<Request> owned(r);
    if (r->kind == Request::Kind::kRead && !r->direct && r->status.ok()) {
      std::memcpy(r->dst, buffer(r->buffer), r->len);
    }
    if (r->buffer >= 0) free_buffers_.push_back(r->buffer);
    --in_flight_;
    ready.emplace_back(std::move(r->done), std::move(r->status));
  }
  io_uring_cq_advance(&ring_, seen);

  StartWaiting();
  outstanding_ -= ready.size();
  for (auto& [done, status] : ready) done(std::move(status));
  return ready.size();
}

size_t UringEngine::WaitAndReap() {
  if (outstanding_ == 0) return 0;
  if (deferred_.empty() && in_flight_ > 0) {
    io_uring_cqe* cqe = nullptr;
    int ret;
    do {
      ret = io_uring_wait_cqe(&ring_, &cqe);
    } while (ret == -EINTR);
    if (ret < 0) spdlog::warn("nvme: io_uring_wait_cqe: {}", std::strerror(-ret));
  }
  return ReapCompletions();
}

}  // namespace tierkv::nvme
