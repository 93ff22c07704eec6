// The limit the NVMe tier is compared with: io_uring O_DIRECT writes and reads
// of the same bytes to a scratch file in the same directory.
#pragma once

#include <cstdint>
#include <string>

#include "tierkv/status.h"

namespace tierkv::bench {

struct RawIoResult {
  double write_gbps = 0;
  double read_gbps = 0;
};

// Writes `blocks` blocks of `block_bytes` with `queue_depth` requests in
// flight (then fdatasync, included in the time), reads them back the same
// way, and removes the file.
Result<RawIoResult> MeasureRawIo(const std::string& dir, uint64_t block_bytes, uint64_t blocks,
                                 unsigned queue_depth = 16);

}  // namespace tierkv::bench
