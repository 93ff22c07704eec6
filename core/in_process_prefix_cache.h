// A PrefixCache held in this process's memory: the reference implementation
// the engine tests run against, and what `tierkv-engine bench` uses when no
// daemon is given. Verifies hits like tierkvd: a block matches only if its
// parent key and tokens match too, so a hash collision can never return
// another prompt's KV. Unbounded: nothing is evicted except by Clear().
#pragma once

#include <unordered_map>
#include <vector>

#include "core/prefix_cache.h"
#include "tierkv/namespace_spec.h"

namespace tierkv::core {

class InProcessPrefixCache : public PrefixCache {
 public:
  explicit InProcessPrefixCache(const NamespaceSpec& spec);

  Key128 namespace_id() const override { return namespace_id_; }
  Result<uint32_t> Lookup(std::span<const Key128> keys, std::span<const TokenId> tokens) override;
  Result<uint32_t> Load(std::span<const Key128> keys, std::span<const TokenId> tokens,
                        std::span<const std::span<std::byte>> dst) override;
  Status Store(std::span<const Key128> keys, std::span<const TokenId> tokens,
               std::span<const std::span<const std::byte>> src) override;

  size_t blocks() const { return blocks_.size(); }
  void Clear() { blocks_.clear(); }
  // Drops one block (and so every longer prefix through it), as an eviction would.
  void Erase(const Key128& key) { blocks_.erase(key); }

 private:
  struct Block {
    Key128 parent;
    std::vector<TokenId> tokens;
    std::vector<std::byte> payload;
  };
  // The block stored under keys[i], or null if absent or not verified.
  const Block* Find(std::span<const Key128> keys, std::span<const TokenId> tokens, size_t i) const;

  Key128 namespace_id_;
  uint32_t block_tokens_;
  uint64_t block_bytes_;
  std::unordered_map<Key128, Block, Key128Hash> blocks_;
};

// A namespace id derived from every field of `spec`, for caches that do not
// get one from tierkvd.
Key128 LocalNamespaceId(const NamespaceSpec& spec);

}  // namespace tierkv::core
