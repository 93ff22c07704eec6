// Opens the NVMe tier for the daemon: replays its index into the block store
// (oldest blocks first, so LRU order survives a restart), logging progress for
// large indexes, and attaches it.
#pragma once

#include <memory>
#include <string>

#include "daemon/block_store.h"
#include "daemon/config.h"
#include "tiers/nvme/nvme_store.h"

namespace tierkv {

// Returns null (and logs why) when the config turns the tier off.
Result<std::unique_ptr<nvme::NvmeStore>> OpenNvmeTier(const DaemonConfig& config,
                                                       uint64_t max_block_bytes,
                                                       BlockStore* store);

}  // namespace tierkv
