// IoEngine: asynchronous reads and writes of whole blocks at 4096-aligned
// offsets of O_DIRECT files, with completions delivered as callbacks.
//
// Contract shared by every implementation:
//  - Submit* never runs the callback itself: callbacks run only inside
//    ReapCompletions() or WaitAndReap(), on the thread that calls them, exactly
//    once per request, with OK or the reason the request failed.
//  - The caller's buffer (`src` of a write, `dst` of a read) must stay valid and
//    untouched until the request's callback has run.
//  - A write covers RoundUpToIo(len) bytes at the target, the bytes past `len`
//    zero-filled; a read fills exactly `len` bytes of `dst`.
//  - event_fd() becomes readable whenever a completion is ready to be reaped;
//    ReapCompletions() clears it. A daemon waits on it with its event loop.
//
// Thread safety: not thread-safe; one thread submits and reaps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "tierkv/status.h"

namespace tierkv::nvme {

// O_DIRECT alignment of offsets, lengths and memory.
inline constexpr size_t kIoAlignment = 4096;

inline constexpr uint64_t RoundUpToIo(uint64_t n) {
  return (n + kIoAlignment - 1) / kIoAlignment * kIoAlignment;
}

// Where a request goes: a file opened with O_DIRECT and a kIoAlignment-aligned offset.
struct IoTarget {
  int fd = -1;
  uint64_t offset = 0;
};

using IoCallback = std::function<void(Status)>;

class IoEngine {
 public:
  virtual ~IoEngine() = default;

  virtual void SubmitWrite(IoTarget target, const std::byte* src, size_t len, IoCallback done) = 0;
  virtual void SubmitRead(IoTarget target, std::byte* dst, size_t len, IoCallback done) = 0;
  // Makes every write to `fd` completed so far durable (fdatasync). Needs no
  // staging buffer, so it never waits behind reads and writes.
  virtual void SubmitSync(int fd, IoCallback done) = 0;

  // Runs the callbacks of every request complete so far, without blocking.
  // Returns how many ran.
  virtual size_t ReapCompletions() = 0;
  // Blocks until at least one request completes (returns 0 at once when none
  // is outstanding), then reaps like ReapCompletions().
  virtual size_t WaitAndReap() = 0;

  virtual int event_fd() const = 0;
  // Requests submitted and not yet reaped, including those waiting for a buffer.
  virtual size_t outstanding() const = 0;
  // Requests handed to the kernel right now: the device queue depth.
  virtual size_t in_flight() const = 0;
  // The largest `len` a request may have.
  virtual size_t max_io_bytes() const = 0;
};

// Blocking conveniences for tests and tools: submit one request, then reap
// until its callback ran (other requests' callbacks run too).
Status WriteBlocking(IoEngine& engine, IoTarget target, const std::byte* src, size_t len);
Status ReadBlocking(IoEngine& engine, IoTarget target, std::byte* dst, size_t len);

}  // namespace tierkv::nvme
