#include "tiers/nvme/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace tierkv::nvme {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

namespace {

// The tier holds every tenant's KV: readable by the daemon's user only.
constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;

class PosixFileSystem final : public FileSystem {
 public:
  Status CreateDirIfMissing(const std::string& dir) override {
    if (::mkdir(dir.c_str(), kDirMode) == 0 || errno == EEXIST) return Status::Ok();
    return Status::FromErrno(errno, "mkdir " + dir);
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Status::FromErrno(errno, "opendir " + dir);
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) {
      std::string name(e->d_name);
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return names;
  }

  Result<UniqueFd> OpenDirect(const std::string& path, bool create) override {
    int flags = O_RDWR | O_DIRECT | O_CLOEXEC | (create ? O_CREAT : 0);
    int fd = ::open(path.c_str(), flags, kFileMode);
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    return UniqueFd(fd);
  }

  Status Allocate(int fd, uint64_t offset, uint64_t len) override {
    // posix_fallocate returns the error instead of setting errno.
    int err = ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(len));
    if (err != 0) return Status::FromErrno(err, "fallocate slab file");
    return Status::Ok();
  }

  Status DataSync(int fd) override {
    if (::fdatasync(fd) != 0) return Status::FromErrno(errno, "fdatasync slab file");
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open dir " + dir);
    UniqueFd owner(fd);
    if (::fsync(fd) != 0) return Status::FromErrno(errno, "fsync dir " + dir);
    return Status::Ok();
  }

  Result<uint64_t> FileSize(int fd) override {
    struct stat st;
    if (::fstat(fd, &st) != 0) return Status::FromErrno(errno, "fstat slab file");
    return static_cast<uint64_t>(st.st_size);
  }

  Status Unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "unlink " + path);
    return Status::Ok();
  }
};

}  // namespace

FileSystem* DefaultFileSystem() {
  static PosixFileSystem* fs = new PosixFileSystem();
  return fs;
}

}  // namespace tierkv::nvme
