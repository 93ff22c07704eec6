// `tierkv-bench --tier nvme`: the daemon's NVMe tier read and write GB/s with
// the CPU tier too small to hold the working set, beside raw io_uring O_DIRECT
// on the same bytes in the same directory (16 requests in flight). Reads are
// gets of blocks that live on NVMe only, by one client (one request of
// `batch` blocks in flight: the disk idles while the client copies) and by
// `readers` clients at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tierkv/client.h"

namespace tierkv::bench {

struct NvmeTierBenchOptions {
  std::string address;  // the daemon, for the readers' own connections
  std::vector<uint64_t> block_bytes;
  std::string scratch_dir;  // on the same disk as the daemon's data dir
  uint32_t batch = 16;
  // Reads are measured twice: by one client with one request in flight, and
  // by this many clients at once (an engine serving several requests), each
  // on its own connection.
  uint32_t readers = 4;
  bool json = false;
};

// Prints one line per block size; returns a process exit code.
int RunNvmeTierBench(Client& client, const NvmeTierBenchOptions& options);

}  // namespace tierkv::bench
