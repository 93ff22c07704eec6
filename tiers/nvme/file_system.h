// FileSystem: the NVMe tier's only door to file metadata operations.
//
// Slab files are created, sized, synced and listed through this interface so
// tests can wrap it (testing/fault_injection_file_system.h) and make chosen
// operations fail with ENOSPC or EIO; production classes carry no test hooks.
// Payload reads and writes do not pass through here: they go through an
// IoEngine (io_engine.h) on the file descriptors opened here.
//
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tierkv/status.h"

namespace tierkv::nvme {

// Owns one file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();

 private:
  int fd_ = -1;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates `dir` (one level) unless it exists already.
  virtual Status CreateDirIfMissing(const std::string& dir) = 0;
  // Names (not paths) of the regular entries of `dir`, in no particular order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Opens `path` for reading and writing with O_DIRECT. With `create` the file
  // is created if missing; without it a missing file is NotFound.
  virtual Result<UniqueFd> OpenDirect(const std::string& path, bool create) = 0;
  // Reserves [offset, offset + len) on disk (fallocate, mode 0), so later writes
  // there cannot fail for lack of space. A full disk is ResourceExhausted.
  virtual Status Allocate(int fd, uint64_t offset, uint64_t len) = 0;
  // Makes the file's data and the metadata needed to read it durable (fdatasync).
  virtual Status DataSync(int fd) = 0;
  // Makes the directory's entries (files created or removed) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Result<uint64_t> FileSize(int fd) = 0;
  virtual Status Unlink(const std::string& path) = 0;
};

// The process-wide POSIX implementation. Never null; never destroyed.
FileSystem* DefaultFileSystem();

// Forwards every call to `target`; subclasses override the calls they change.
// `target` must outlive the wrapper.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* target) : target_(target) {}

  Status CreateDirIfMissing(const std::string& dir) override {
    return target_->CreateDirIfMissing(dir);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return target_->ListDir(dir);
  }
  Result<UniqueFd> OpenDirect(const std::string& path, bool create) override {
    return target_->OpenDirect(path, create);
  }
  Status Allocate(int fd, uint64_t offset, uint64_t len) override {
    return target_->Allocate(fd, offset, len);
  }
  Status DataSync(int fd) override { return target_->DataSync(fd); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  Result<uint64_t> FileSize(int fd) override { return target_->FileSize(fd); }
  Status Unlink(const std::string& path) override { return target_->Unlink(path); }

 protected:
  FileSystem* target() const { return target_; }

 private:
  FileSystem* target_;
};

}  // namespace tierkv::nvme
