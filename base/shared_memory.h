// An anonymous shared-memory region (memfd) mapped into this process, whose fd
// can be handed to other processes (over a Unix socket) so they map the same
// bytes. Move-only; unmaps and closes on destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "tierkv/status.h"

namespace tierkv {

// How far faulting a region in has got; called on the creating thread about
// once a second while it runs, and once at the end.
using PopulateProgress = std::function<void(uint64_t done_bytes, uint64_t total_bytes)>;

class SharedMemory {
 public:
  // Creates a region of `bytes` and faults every page in now: the first write
  // to a fresh page costs ~13 us on the VMs we run on, far too slow for a put.
  // Tries huge pages first and falls back to normal pages (only these report
  // `progress`; huge pages are faulted in by mmap itself). The memfd's size
  // is sealed (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL): no process it is
  // handed to can resize it under the creator's mapping.
  static Result<SharedMemory> Create(uint64_t bytes, const char* name,
                                     const PopulateProgress& progress = {});
  // How Map() prepares the pages of a region another process created.
  enum class Prefault {
    // Every page-table entry faulted in for writing, so puts never take
    // page faults.
    kPageTables,
    // As kPageTables, and each page also accessed once from this process:
    // under shadow paging (our VMs' PVM hypervisor) populated page tables do
    // not spare a process its first access to a page, a ~7 us trap per 4 KiB
    // page that no fault counter shows; touching moves that cost from the
    // first reads of cached blocks to here.
    kTouchEveryPage,
    // Nothing: the process maps only the pages it goes on to use (an engine
    // reading a few prefixes of a large pool; PrefaultRange on what it reads).
    kNone,
  };
  // Maps a region another process created (read-write, shared), prepared as
  // `prefault` says. Takes ownership of `fd`.
  static Result<SharedMemory> Map(int fd, uint64_t bytes,
                                  Prefault prefault = Prefault::kPageTables);

  // Faults in the page-table entries of the pages `bytes` spans, for reading
  // or for writing, in one call (MADV_POPULATE_READ/WRITE); a no-op where the
  // kernel lacks them (the access then faults page by page, as it would).
  // For a region mapped with Prefault::kNone.
  static void PrefaultRange(std::span<const std::byte> bytes, bool for_write);

  SharedMemory() = default;
  SharedMemory(SharedMemory&& other) noexcept;
  SharedMemory& operator=(SharedMemory&& other) noexcept;
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  ~SharedMemory();

  std::byte* data() const { return data_; }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }
  bool huge_pages() const { return huge_pages_; }

 private:
  void Reset();
  std::byte* data_ = nullptr;
  uint64_t size_ = 0;
  int fd_ = -1;
  bool huge_pages_ = false;
};

}  // namespace tierkv
