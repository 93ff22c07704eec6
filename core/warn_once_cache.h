// An engine's hold on its PrefixCache. A cache error never fails a request:
// the first one is logged, and from then on the engine runs cold without
// asking again (a daemon whose connection failed once would only fail again,
// and warn, on every request).
//
// Thread safety: none; the engine calls Drop() from its own thread only.
#pragma once

#include <optional>
#include <span>

#include "core/prefix_cache.h"
#include "tierkv/status.h"

namespace tierkv::core {

class WarnOnceCache {
 public:
  // `cache` may be null (always cold).
  explicit WarnOnceCache(PrefixCache* cache) : cache_(cache) {}

  // The cache, or null once it has failed (or when there was none).
  PrefixCache* get() const { return cache_; }

  // Logs one warning naming `what` failed and why, then lets the cache go.
  void Drop(const Status& error, const char* what);

  // LookupCachedPrefix on the cache; nullopt when there is no cache or the
  // lookup failed (the cache is then dropped).
  std::optional<CachedPrefix> LookupPrefix(std::span<const TokenId> prompt, int block_tokens);

 private:
  PrefixCache* cache_;
};

}  // namespace tierkv::core
