// The daemon's persistent state (the secret, the NVMe tier's slab files and
// its RocksDB index) holds every tenant's KV and the root of every namespace
// id, so it is readable by the daemon's user only: files 0600, directories
// 0700 (docs/security.md, "At rest").
//
// New files get those modes from the daemon's umask (set at start) and from
// the NVMe tier's own modes; data dirs made by older versions (0644 files,
// 0755 directories) are fixed once at start by RestrictDataDirModes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "tierkv/status.h"

namespace tierkv {

// Group and other bits cleared on everything the daemon creates.
inline constexpr mode_t kOwnerOnlyUmask = 077;

struct DataDirModeFix {
  size_t fixed = 0;    // files and directories whose group/other bits were cleared
  Status first_error;  // the first entry that could not be read or changed
  // The data dir itself was left as it is: it is a shared directory (sticky
  // bit set, like /var/tmp), which the daemon must not close to others.
  bool shared_dir_left = false;
};

// Clears the group and other permission bits of `data_dir` and of every file
// and directory below it (symlinks are neither followed nor changed). In a
// shared data dir (sticky bit) only the daemon's own entries are changed. A
// data dir that does not exist yet is no error (nothing to fix).
DataDirModeFix RestrictDataDirModes(const std::string& data_dir);

}  // namespace tierkv
