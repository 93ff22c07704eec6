// `tierkv-bench --tier remote`: the daemon's remote tier put and get GB/s. A
// put is measured from the first put until the daemon reports every block
// written to the remote tier (write-through); a get, after the blocks were
// evicted from the daemon's local tiers, reads each prompt back through the
// remote tier (one client, one request of `batch` blocks in flight). The
// limit to compare with is the raw client loop on the same servers,
// tierkv-remote-bench --url (bench/remote_bench.cc), which
// scripts/remote-tier-bench.sh runs in the same run.
#pragma once

#include <cstdint>
#include <vector>

#include "tierkv/client.h"

namespace tierkv::bench {

struct RemoteTierBenchOptions {
  std::vector<uint64_t> block_bytes;
  uint32_t batch = 16;
  uint64_t set_bytes = uint64_t{256} << 20;  // per block size, at most half the host tier
  bool json = false;
};

// Prints one line per block size; returns a process exit code.
int RunRemoteTierBench(Client& client, const RemoteTierBenchOptions& options);

}  // namespace tierkv::bench
