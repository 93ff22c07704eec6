#include "bench/raw_io.h"

#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/bench_util.h"

namespace tierkv::bench {
namespace {

constexpr size_t kAlign = 4096;

// Runs one pass over the file; returns the seconds it took.
Result<double> Pass(io_uring* ring, int fd, std::vector<void*>& bufs, uint64_t block_bytes,
                    uint64_t blocks, bool write) {
  const unsigned depth = static_cast<unsigned>(bufs.size());
  const auto t0 = Clock::now();
  uint64_t submitted = 0, completed = 0;
  while (completed < blocks) {
    while (submitted < blocks && submitted - completed < depth) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      void* buf = bufs[submitted % depth];
      if (write) {
        io_uring_prep_write(sqe, fd, buf, static_cast<unsigned>(block_bytes),
                            submitted * block_bytes);
      } else {
        io_uring_prep_read(sqe, fd, buf, static_cast<unsigned>(block_bytes),
                           submitted * block_bytes);
      }
      ++submitted;
    }
    io_uring_submit(ring);
    io_uring_cqe* cqe = nullptr;
    if (int rc = io_uring_wait_cqe(ring, &cqe); rc < 0) {
      return Status::FromErrno(-rc, "io_uring_wait_cqe");
    }
    if (cqe->res != static_cast<int>(block_bytes)) {
      const int res = cqe->res;
      io_uring_cqe_seen(ring, cqe);
      return res < 0 ? Status::FromErrno(-res, "raw io") : Status::IOError("short raw io");
    }
    io_uring_cqe_seen(ring, cqe);
    ++completed;
  }
  if (write && ::fdatasync(fd) != 0) return Status::FromErrno(errno, "fdatasync");
  return SecondsSince(t0);
}

}  // namespace

Result<RawIoResult> MeasureRawIo(const std::string& dir, uint64_t block_bytes, uint64_t blocks,
                                 unsigned queue_depth) {
  const std::string path = dir + "/tierkv-bench-raw.scratch";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open " + path + " O_DIRECT");
  ::unlink(path.c_str());  // gone when closed, whatever happens
  if (::fallocate(fd, 0, 0, static_cast<off_t>(block_bytes * blocks)) != 0) {
    Status s = Status::FromErrno(errno, "fallocate " + path);
    ::close(fd);
    return s;
  }
  io_uring ring;
  if (int rc = io_uring_queue_init(queue_depth * 2, &ring, 0); rc < 0) {
    ::close(fd);
    return Status::FromErrno(-rc, "io_uring_queue_init");
  }
  std::vector<void*> bufs(queue_depth);
  for (auto& b : bufs) {
    b = std::aligned_alloc(kAlign, block_bytes);
    std::memset(b, 0x5a, block_bytes);
  }
  RawIoResult out;
  Status status;
  auto w = Pass(&ring, fd, bufs, block_bytes, blocks, true);
  auto r = w.ok() ? Pass(&ring, fd, bufs, block_bytes, blocks, false) : w;
  if (w.ok() && r.ok()) {
    out.write_gbps = static_cast<double>(block_bytes * blocks) / *w / 1e9;
    out.read_gbps = static_cast<double>(block_bytes * blocks) / *r / 1e9;
  } else {
    status = w.ok() ? r.status() : w.status();
  }
  for (auto b : bufs) std::free(b);
  io_uring_queue_exit(&ring);
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

}  // namespace tierkv::bench
