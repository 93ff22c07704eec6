#include "core/prefix_cache.h"

#include <algorithm>

namespace tierkv::core {

Result<BorrowedBlocks> PrefixCache::Borrow(std::span<const Key128>, std::span<const TokenId>,
                                           const BorrowOptions&) {
  return Status::Unsupported("this prefix cache cannot lend blocks in place; use Load");
}

Result<SharedDevicePool> PrefixCache::shared_device_pool() {
  return Status::Unsupported("this prefix cache shares no device memory");
}

Result<CachedPrefix> LookupCachedPrefix(PrefixCache& cache, std::span<const TokenId> prompt,
                                        int block_tokens) {
  if (block_tokens <= 0) return Status::InvalidArgument("block_tokens must be positive");
  CachedPrefix prefix;
  prefix.block_tokens = block_tokens;
  const size_t usable = prompt.size() / block_tokens;
  if (usable == 0) return prefix;
  prefix.tokens = prompt.first(usable * block_tokens);
  prefix.keys = ChainBlockKeys(cache.namespace_id(), prefix.tokens, block_tokens);
  TIERKV_ASSIGN_OR_RETURN(const uint32_t matched, cache.Lookup(prefix.keys, prefix.tokens));
  // A cache cannot hold more of the chain than it was asked about.
  prefix.matched_blocks = std::min<uint32_t>(matched, static_cast<uint32_t>(prefix.keys.size()));
  return prefix;
}

}  // namespace tierkv::core
