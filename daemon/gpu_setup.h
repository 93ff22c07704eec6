// Start-up of the GPU tier: device memory for the pool, the host pool
// page-locked for the copies up, and the tier attached to the block store. Any
// failure leaves the daemon running without the tier, and says why once.
#pragma once

#include <memory>
#include <string>

#include "daemon/block_store.h"
#include "daemon/config.h"
#include "tiers/gpu/cuda_device_memory.h"
#include "tiers/gpu/gpu_tier.h"

namespace tierkv {

struct GpuSetup {
  std::unique_ptr<GpuTier> tier;                            // null when off
  std::unique_ptr<HostMemoryRegistration> host_registration;  // null when not pinned
  std::string off_reason;                                   // why the tier is off
};

// Opens the tier (unless gpu_bytes is 0) and attaches it to `store`.
GpuSetup SetUpGpuTier(const DaemonConfig& config, HostTier& host, BlockStore* store);

}  // namespace tierkv
