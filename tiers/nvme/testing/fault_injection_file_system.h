// FaultInjectionFileSystem: a FileSystem that makes chosen operations fail
// with a chosen errno (ENOSPC, EIO, ...), for tests only.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <map>
#include <mutex>

#include "tiers/nvme/file_system.h"

namespace tierkv::nvme::testing {

enum class FsOp { kOpen, kAllocate, kDataSync, kSyncDir, kUnlink };

class FaultInjectionFileSystem : public FileSystemWrapper {
 public:
  static constexpr int kForever = -1;

  explicit FaultInjectionFileSystem(FileSystem* target) : FileSystemWrapper(target) {}

  // The next `times` calls of `op` (every call with kForever) fail with `err`
  // without reaching the wrapped file system.
  void InjectError(FsOp op, int err, int times = kForever);
  // Stops every injected failure.
  void Clear();
  // How many calls of `op` failed because of an injection.
  int injected_failures(FsOp op) const;

  Result<UniqueFd> OpenDirect(const std::string& path, bool create) override;
  Status Allocate(int fd, uint64_t offset, uint64_t len) override;
  Status DataSync(int fd) override;
  Status SyncDir(const std::string& dir) override;
  Status Unlink(const std::string& path) override;

 private:
  struct Fault {
    int err = 0;
    int remaining = 0;
  };
  // Returns the errno to fail `op` with, or 0 to let it through.
  int Take(FsOp op);

  mutable std::mutex mu_;
  std::map<FsOp, Fault> faults_;  // guarded by mu_
  std::map<FsOp, int> failures_;  // guarded by mu_
};

}  // namespace tierkv::nvme::testing
