// The daemon's index of blocks: placement, LRU order, pins and verification.
//
// Every block the daemon knows has one BlockEntry in `index_`, keyed by its
// block key. An entry is kWriting from reserve until commit (invisible to
// lookups) and kReady after. A ready, unpinned entry sits in the LRU list of
// its size class; pinning unlinks it, and unpinning links it back as the most
// recent, so an eviction never has to skip pinned blocks.
//
// Verified hits: each entry keeps its parent key and its tokens, and a lookup
// matches a block only when both equal what the client sent, so a hash
// collision can never hand out another prefix's KV. Reserve checks that every
// key is the hash of its parent and tokens, so a client cannot plant a block
// under a key that names another prompt.
//
// Touch order: a lookup touches matched blocks from last to first, and commit
// links new blocks the same way, so a prefix's tail is always older than its
// head and is evicted first.
//
// Thread safety: none; the daemon drives a BlockStore from its one event-loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "host_tier.h"
#include "lru_list.h"
#include "messages.h"
#include "namespace_registry.h"
#include "tierkv/client.h"

namespace tierkv {

enum class BlockState : uint8_t { kWriting, kReady };

struct BlockEntry : LruHook {
  Key128 key;
  Key128 parent;
  NamespaceInfo* ns = nullptr;
  std::vector<TokenId> tokens;
  uint64_t checksum = 0;
  TierSlot host_slot;
  TierKind tier = TierKind::kHost;
  BlockState state = BlockState::kWriting;
  uint32_t pins = 0;
};

struct TierCounters {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

class BlockStore {
 public:
  explicit BlockStore(HostTier* host);
  ~BlockStore();
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  // The longest verified prefix of `chain` (at most max_blocks), touched last
  // to first. Counts hits and one miss per lookup that stops short.
  std::vector<BlockEntry*> Match(NamespaceInfo& ns, const wire::BlockChain& chain,
                                 uint32_t max_blocks);
  // Pins entries (from Match). Pinned blocks are never evicted or moved.
  void Pin(std::span<BlockEntry* const> entries);
  // Unpins, relinking last to first so the prefix head stays the most recent.
  void Unpin(std::span<BlockEntry* const> entries);

  // Reserves a slot for each block of the chain, evicting least recently used
  // blocks when the tier is full. A block already stored (or being written)
  // gets nullptr. All or nothing: on error no slot stays reserved.
  Result<std::vector<BlockEntry*>> Reserve(NamespaceInfo& ns, const wire::BlockChain& chain);
  // Makes reserved blocks visible; checksums their payloads.
  void Commit(std::span<BlockEntry* const> entries);
  // Drops reserved blocks and frees their slots.
  void Abort(std::span<BlockEntry* const> entries);

  // Drops every ready, unpinned block of `ns` (all namespaces when null).
  uint64_t Evict(const NamespaceInfo* ns);

  HostTier& host() { return *host_; }
  const TierCounters& host_counters() const { return host_counters_; }
  void CountBytesOut(uint64_t bytes) { host_counters_.bytes_out += bytes; }
  uint64_t ready_blocks() const { return ready_blocks_; }
  uint64_t pinned_blocks() const { return pinned_blocks_; }
  size_t indexed_blocks() const { return index_.size(); }

 private:
  bool Verified(const BlockEntry& e, const NamespaceInfo& ns, const Key128& parent,
                std::span<const TokenId> tokens) const;
  // Frees one slot's worth of room for `size_class`; false when nothing is evictable.
  bool MakeRoom(uint32_t size_class);
  void Drop(BlockEntry* e);
  LruList<BlockEntry>& LruFor(uint32_t size_class);

  HostTier* host_;
  std::unordered_map<Key128, std::unique_ptr<BlockEntry>, Key128Hash> index_;
  std::vector<std::unique_ptr<LruList<BlockEntry>>> lru_by_class_;
  TierCounters host_counters_;
  uint64_t ready_blocks_ = 0;
  uint64_t pinned_blocks_ = 0;
};

}  // namespace tierkv
