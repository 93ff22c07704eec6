// Where KV blocks live beyond one sequence, so a prompt's cached prefix can be
// loaded instead of recomputed: tierkvd in production, an in-process map in
// tests. The engine talks to it through this interface only.
//
// A PrefixCache serves one namespace (model, KV dtype and layout, block size):
// every block is block_bytes bytes in the layout documented in kv_cache.h.
// Blocks are named by ChainBlockKeys(namespace_id(), tokens, block_tokens), so
// a key names its whole prefix; `tokens` arguments carry the blocks' own
// tokens (keys.size() * block_tokens ids) so the store can verify a hit.
//
// Thread safety: implementations must allow Store() from one thread while
// another thread makes no other call (the engine stores in the background and
// waits for it before its next lookup).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/borrowed_blocks.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

class PrefixCache {
 public:
  virtual ~PrefixCache() = default;

  // The root of this namespace's key chains.
  virtual Key128 namespace_id() const = 0;

  // How many leading blocks of `keys` are stored (and verified). May start
  // moving them toward faster memory.
  virtual Result<uint32_t> Lookup(std::span<const Key128> keys,
                                  std::span<const TokenId> tokens) = 0;

  // Copies leading blocks into dst[i] (each exactly block_bytes), stopping at
  // the first block no longer stored. Returns how many were copied, which can
  // be fewer than Lookup() said when a block was evicted in between.
  virtual Result<uint32_t> Load(std::span<const Key128> keys, std::span<const TokenId> tokens,
                                std::span<const std::span<std::byte>> dst) = 0;

  // Lends leading blocks in place instead of copying them: one BorrowedBlock
  // per block (each block_bytes), stopping at the first block no longer
  // stored, so possibly fewer than Lookup() said. The views stay valid and the
  // blocks stay put until the result is destroyed. Unsupported (the default)
  // from caches that cannot lend; callers then use Load().
  virtual Result<BorrowedBlocks> Borrow(std::span<const Key128> keys,
                                        std::span<const TokenId> tokens,
                                        const BorrowOptions& options);

  // The device pool the cache shares with readers on its GPU, for Borrow with
  // BorrowOptions::device_pool. Unsupported (the default) or Unavailable
  // (with the reason) when there is none.
  virtual Result<SharedDevicePool> shared_device_pool();

  // Host memory that lent blocks lie in when they are lent from shared memory
  // (tierkvd's pool mapped into this process), mapped for as long as the cache
  // lives, so that a GPU engine can register it with CUDA once and read lent
  // blocks in place. Empty (the default) when there is no such region.
  virtual std::span<std::byte> shared_host_region() const { return {}; }

  // Stores blocks src[i] under keys[i]. `keys` start at a prompt's first block
  // (the parent of keys[0] is namespace_id()), like every chain here; blocks
  // already stored are kept as they are and their src is not read.
  virtual Status Store(std::span<const Key128> keys, std::span<const TokenId> tokens,
                       std::span<const std::span<const std::byte>> src) = 0;
};

// What a cache holds of a prompt, as the lookup before a prefill finds it.
struct CachedPrefix {
  std::vector<Key128> keys;         // chain keys of every full block of the prompt
  std::span<const TokenId> tokens;  // those blocks' tokens: a view of the prompt
  int block_tokens = 0;
  uint32_t matched_blocks = 0;  // how many leading blocks the cache holds (<= keys.size())

  std::span<const Key128> matched_keys() const { return std::span(keys).first(matched_blocks); }
  std::span<const TokenId> matched_tokens() const {
    return tokens.first(static_cast<size_t>(matched_blocks) * block_tokens);
  }
};

// Keys the prompt's full blocks of `block_tokens` tokens and looks them up in
// `cache`. A prompt shorter than one block matches nothing and asks nothing.
// The result views `prompt`, which must outlive it. Errors are the cache's.
Result<CachedPrefix> LookupCachedPrefix(PrefixCache& cache, std::span<const TokenId> prompt,
                                        int block_tokens);

}  // namespace tierkv::core
