#include "daemon/gpu_setup.h"

#include <spdlog/spdlog.h>

namespace tierkv {

GpuSetup SetUpGpuTier(const DaemonConfig& config, HostTier& host, BlockStore* store) {
  GpuSetup setup;
  if (config.gpu_bytes == 0) {
    setup.off_reason = "gpu_bytes is 0";
  } else if (auto memory = OpenCudaDeviceMemory(config.gpu_device, config.gpu_bytes);
             !memory.ok()) {
    setup.off_reason = std::string(memory.status().message());
  } else if (auto tier = GpuTier::Create(std::move(*memory)); !tier.ok()) {
    setup.off_reason = std::string(tier.status().message());
  } else {
    setup.tier = std::move(*tier);
  }
  if (!setup.tier) {
    spdlog::info("gpu tier: off ({})", setup.off_reason);
    return setup;
  }
  // Copies up read the host pool; page-locked, they run asynchronously at
  // full link speed instead of through the driver's bounce buffers.
  auto registration = RegisterHostMemory({host.At(0), host.pool_bytes()});
  if (registration.ok()) {
    setup.host_registration = std::move(*registration);
  } else {
    spdlog::warn("host pool not page-locked for the GPU ({}); copies up will be slower",
                 registration.status().ToString());
  }
  spdlog::info("gpu tier: {} MiB on {}, host pool {}", setup.tier->capacity_bytes() >> 20,
               setup.tier->memory().description(),
               setup.host_registration ? "page-locked" : "not page-locked");
  store->AttachGpu(setup.tier.get());
  return setup;
}

}  // namespace tierkv
