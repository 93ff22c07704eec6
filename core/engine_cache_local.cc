// OpenEngineCache for builds without the daemon client library.
#include <spdlog/spdlog.h>

#include "core/engine_cache.h"

namespace tierkv::core {

std::unique_ptr<PrefixCache> OpenEngineCache(const std::string& address, const NamespaceSpec&) {
  if (!address.empty()) {
    spdlog::warn("this build has no tierkvd client; ignoring --socket {} and running cold",
                 address);
  }
  return nullptr;
}

}  // namespace tierkv::core
