// OpenEngineCache: tierkvd behind a DaemonPrefixCache.
#include "core/engine_cache.h"

#include <spdlog/spdlog.h>

#include "core/daemon_prefix_cache.h"

namespace tierkv::core {

std::unique_ptr<PrefixCache> OpenEngineCache(const std::string& address,
                                             const NamespaceSpec& spec) {
  if (address.empty()) return nullptr;
  ConnectOptions options;
  options.address = address;
  auto cache = DaemonPrefixCache::Open(options, spec);
  if (!cache.ok()) {
    spdlog::warn("tierkvd at {} is not usable ({}); generating without the prefix cache", address,
                 cache.status().ToString());
    return nullptr;
  }
  return std::move(cache).value();
}

}  // namespace tierkv::core
