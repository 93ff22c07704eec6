#include "shared_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace tierkv {
namespace {

constexpr uint64_t kHugePageBytes = 2ull << 20;


}  // namespace

Result<SharedMemory> SharedMemory::Create(uint64_t bytes, const char* name) {
  if (bytes == 0) return Status::InvalidArgument("shared memory size must be positive");
  SharedMemory shm;
  if (bytes % kHugePageBytes == 0) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_HUGETLB);
    if (fd >= 0 && ftruncate(fd, static_cast<off_t>(bytes)) == 0) {
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
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "memfd_create");
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    Status s = Status::FromErrno(errno, "ftruncate shared pool");
    close(fd);
    return s;
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) {
    Status s = Status::FromErrno(errno, "mmap shared pool");
    close(fd);
    return s;
  }
  shm.data_ = static_cast<std::byte*>(p);
  shm.size_ = bytes;
  shm.fd_ = fd;
  // MAP_POPULATE on shmem can leave pages unallocated when memory is tight;
  // touching one byte per page makes sure every page exists before any put.
  const long page = sysconf(_SC_PAGESIZE);
  for (uint64_t off = 0; off < bytes; off += static_cast<uint64_t>(page)) {
    reinterpret_cast<volatile char*>(shm.data_)[off] = 0;
  }
  return shm;
}

Result<SharedMemory> SharedMemory::Map(int fd, uint64_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) return Status::FromErrno(errno, "mmap daemon pool");
  SharedMemory shm;
  shm.data_ = static_cast<std::byte*>(p);
  shm.size_ = bytes;
  shm.fd_ = fd;
  return shm;
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
