#include "base/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>

namespace tierkv {
namespace {

constexpr uint64_t kHugePageBytes = 2ull << 20;
// Faulting in is shared out in chunks this large (a few tens of ms each).
constexpr uint64_t kPopulateChunkBytes = 64ull << 20;
constexpr auto kProgressInterval = std::chrono::seconds(1);

// Every process that holds the fd may resize a memfd unless it is sealed, and
// an access past a shrunk end faults (SIGBUS) in the daemon too. So the size
// is sealed once it is set; F_SEAL_SEAL keeps anyone from adding seals later
// (F_SEAL_FUTURE_WRITE would stop the next clients from mapping it writable).
constexpr int kFixedSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

// Sizes a sealable memfd to `bytes` and seals that size.
bool SizeAndSeal(int fd, uint64_t bytes) {
  return ftruncate(fd, static_cast<off_t>(bytes)) == 0 &&
         fcntl(fd, F_ADD_SEALS, kFixedSizeSeals) == 0;
}

// Faults in page-table entries for writing, over all cores: a shared mapping
// populated with MAP_POPULATE is mapped read-only, and the first write to each
// page then takes a fault, which made puts ~10x slower than memcpy. The
// contents are left as they are (other processes may be using them).
// With `touch`, every page is also accessed from this process (see Map()).
// Threads take chunks in turn; the calling thread, one of them, reports
// progress between its chunks.
void PopulateWritable(std::byte* data, uint64_t bytes, bool touch,
                      const PopulateProgress& progress = {}) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const unsigned threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
  const uint64_t chunks = (bytes + kPopulateChunkBytes - 1) / kPopulateChunkBytes;
  std::atomic<uint64_t> next_chunk{0};
  std::atomic<uint64_t> done_bytes{0};
  auto populate = [&](uint64_t begin, uint64_t end) {
    if (madvise(data + begin, end - begin, MADV_POPULATE_WRITE) == 0 && !touch) return;
    // Kernels before 5.14, or a touch asked for: an atomic add of zero on each
    // page, which writes without changing what a concurrent writer stores.
    for (uint64_t off = begin; off < end; off += page) {
      std::atomic_ref<char>(reinterpret_cast<char&>(data[off])).fetch_add(0);
    }
  };
  auto last_report = std::chrono::steady_clock::now();
  auto work = [&](bool reports) {
    for (uint64_t c = next_chunk++; c < chunks; c = next_chunk++) {
      const uint64_t begin = c * kPopulateChunkBytes;
      const uint64_t end = std::min(bytes, begin + kPopulateChunkBytes);
      populate(begin, end);
      done_bytes += end - begin;
      const auto now = std::chrono::steady_clock::now();
      if (reports && progress && now - last_report >= kProgressInterval) {
        progress(done_bytes.load(), bytes);
        last_report = now;
      }
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work, false);
  work(true);
  for (auto& w : workers) w.join();
  if (progress) progress(bytes, bytes);
}

}  // namespace

Result<SharedMemory> SharedMemory::Create(uint64_t bytes, const char* name,
                                          const PopulateProgress& progress) {
  if (bytes == 0) return Status::InvalidArgument("shared memory size must be positive");
  SharedMemory shm;
  if (bytes % kHugePageBytes == 0) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_HUGETLB | MFD_ALLOW_SEALING);
    if (fd >= 0 && SizeAndSeal(fd, bytes)) {
      void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
      if (p != MAP_FAILED) {
        shm.data_ = static_cast<std::byte*>(p);
        shm.size_ = bytes;
        shm.fd_ = fd;
        shm.huge_pages_ = true;
        return shm;
      }
    }
    if (fd >= 0) close(fd);
  }
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Status::FromErrno(errno, "memfd_create");
  if (!SizeAndSeal(fd, bytes)) {
    Status s = Status::FromErrno(errno, "size and seal shared pool");
    close(fd);
    return s;
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    Status s = Status::FromErrno(errno, "mmap shared pool");
    close(fd);
    return s;
  }
  shm.data_ = static_cast<std::byte*>(p);
  shm.size_ = bytes;
  shm.fd_ = fd;
  PopulateWritable(shm.data_, bytes, /*touch=*/false, progress);
  return shm;
}

Result<SharedMemory> SharedMemory::Map(int fd, uint64_t bytes, Prefault prefault) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::FromErrno(errno, "mmap daemon pool");
  SharedMemory shm;
  shm.data_ = static_cast<std::byte*>(p);
  shm.size_ = bytes;
  shm.fd_ = fd;
  if (prefault != Prefault::kNone) {
    PopulateWritable(shm.data_, bytes, prefault == Prefault::kTouchEveryPage);
  }
  return shm;
}

void SharedMemory::PrefaultRange(std::span<const std::byte> bytes, bool for_write) {
  if (bytes.empty()) return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(bytes.data()) & ~(page - 1);
  const auto end = reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size();
  // Failure (EINVAL before Linux 5.14) only means the accesses fault as usual.
  (void)madvise(reinterpret_cast<void*>(begin), end - begin,
                for_write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

SharedMemory::SharedMemory(SharedMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      fd_(std::exchange(other.fd_, -1)),
      huge_pages_(other.huge_pages_) {}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
  if (this != &other) {
    Reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
    huge_pages_ = other.huge_pages_;
  }
  return *this;
}

SharedMemory::~SharedMemory() { Reset(); }

void SharedMemory::Reset() {
  if (data_) munmap(data_, size_);
  if (fd_ >= 0) close(fd_);
  data_ = nullptr;
  fd_ = -1;
  size_ = 0;
}

}  // namespace tierkv
