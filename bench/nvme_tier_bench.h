// `tierkv-bench --tier nvme`: the daemon's NVMe tier read and write GB/s with
// the CPU tier too small to hold the working set, beside raw io_uring O_DIRECT
// on the same bytes in the same directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tierkv/client.h"

namespace tierkv::bench {

struct NvmeTierBenchOptions {
  std::vector<uint64_t> block_bytes;
  std::string scratch_dir;  // on the same disk as the daemon's data dir
  uint32_t batch = 16;
  bool json = false;
};

// Prints one line per block size; returns a process exit code.
int RunNvmeTierBench(Client& client, const NvmeTierBenchOptions& options);

}  // namespace tierkv::bench
