#include "core/warn_once_cache.h"

#include <spdlog/spdlog.h>

namespace tierkv::core {

void WarnOnceCache::Drop(const Status& error, const char* what) {
  if (cache_ == nullptr) return;
  spdlog::warn("prefix cache {} failed ({}); continuing without it", what, error.ToString());
  cache_ = nullptr;
}

}  // namespace tierkv::core
