#include "tiers/nvme/testing/fault_injection_file_system.h"

namespace tierkv::nvme::testing {

void FaultInjectionFileSystem::InjectError(FsOp op, int err, int times) {
  std::lock_guard lock(mu_);
  faults_[op] = Fault{err, times};
}

void FaultInjectionFileSystem::Clear() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

int FaultInjectionFileSystem::injected_failures(FsOp op) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(op);
  return it == failures_.end() ? 0 : it->second;
}

int FaultInjectionFileSystem::Take(FsOp op) {
  std::lock_guard lock(mu_);
  auto it = faults_.find(op);
  if (it == faults_.end() || it->second.remaining == 0) return 0;
  if (it->second.remaining > 0) --it->second.remaining;
  ++failures_[op];
  return it->second.err;
}

Result<UniqueFd> FaultInjectionFileSystem::OpenDirect(const std::string& path, bool create) {
  if (int err = Take(FsOp::kOpen)) return Status::FromErrno(err, "open " + path + " (injected)");
  return FileSystemWrapper::OpenDirect(path, create);
}

Status FaultInjectionFileSystem::Allocate(int fd, uint64_t offset, uint64_t len) {
  if (int err = Take(FsOp::kAllocate)) return Status::FromErrno(err, "fallocate (injected)");
  return FileSystemWrapper::Allocate(fd, offset, len);
}

Status FaultInjectionFileSystem::DataSync(int fd) {
  if (int err = Take(FsOp::kDataSync)) return Status::FromErrno(err, "fdatasync (injected)");
  return FileSystemWrapper::DataSync(fd);
}

Status FaultInjectionFileSystem::SyncDir(const std::string& dir) {
  if (int err = Take(FsOp::kSyncDir)) return Status::FromErrno(err, "fsync dir (injected)");
  return FileSystemWrapper::SyncDir(dir);
}

Status FaultInjectionFileSystem::Unlink(const std::string& path) {
  if (int err = Take(FsOp::kUnlink)) return Status::FromErrno(err, "unlink (injected)");
  return FileSystemWrapper::Unlink(path);
}

}  // namespace tierkv::nvme::testing
