// The data directory belongs to one tierkvd at a time: DataDirLock holds an
// exclusive flock on data_dir/tierkvd.lock (with the holder's pid written in
// it) for as long as it lives. Taken first thing at start-up, before the
// pool is faulted in or the NVMe index opened, so a second daemon on the same
// directory fails at once and says who holds it. The kernel drops the lock
// when the process dies, however it dies.
#pragma once

#include <string>

#include "tierkv/status.h"

namespace tierkv {

class DataDirLock {
 public:
  // Creates the directory if needed and locks it. Unavailable, naming the
  // holder's pid, when another process holds it.
  static Result<DataDirLock> Acquire(const std::string& data_dir);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace tierkv
