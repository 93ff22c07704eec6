#include "core/warn_once_cache.h"

#include <spdlog/spdlog.h>

namespace tierkv::core {

void WarnOnceCache::Drop(const Status& error, const char* what) {
  if (cache_ == nullptr) return;
  spdlog::warn("prefix cache {} failed ({}); continuing without it", what, error.ToString());
  cache_ = nullptr;
}

std::optional<CachedPrefix> WarnOnceCache::LookupPrefix(std::span<const TokenId> prompt,
                                                        int block_tokens) {
  if (cache_ == nullptr) return std::nullopt;
  auto prefix = LookupCachedPrefix(*cache_, prompt, block_tokens);
  if (!prefix.ok()) {
    Drop(prefix.status(), "lookup");
    return std::nullopt;
  }
  return std::move(prefix).value();
}

}  // namespace tierkv::core
