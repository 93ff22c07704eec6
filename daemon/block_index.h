// The daemon's index of blocks: one BlockEntry per block key, and the checks
// that make a hit a verified hit.
//
// Every block the daemon knows (reserved, ready, on any tier) has exactly one
// entry here, owned by the index. An entry keeps its address from Insert to
// Erase, so the rest of the store, leases and reservations hold BlockEntry
// pointers; nothing else about how entries are stored is promised.
//
// How they are stored (for the memory and lookup figures in
// docs/performance.md): each entry and its tokens share one record from a
// RecordPool of that size, and a KeyTable maps keys to entries; a lookup
// reads one tag line and one slot of the table, then the entry and the
// tokens it compares, which lie together.
//
// Verified hits: each entry keeps its parent key and tokens, and MatchPrefix
// matches a block only when its namespace, parent and tokens all equal what the
// client sent, so a key collision can never serve another prompt's blocks.
// CheckChain makes sure, before anything is stored, that every key is the hash
// of its parent and tokens, so no client can plant a block under a key that
// names another prefix.
//
// Thread safety: none; the daemon uses the index from its event-loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "daemon/block_entry.h"
#include "daemon/key_table.h"
#include "daemon/record_pool.h"
#include "protocol/messages.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv {

class BlockIndex {
 public:
  BlockIndex();
  ~BlockIndex();
  BlockIndex(const BlockIndex&) = delete;
  BlockIndex& operator=(const BlockIndex&) = delete;

  // OK when the chain carries keys.size() * block_tokens tokens and every key
  // is the hash of its parent and its block's tokens; InvalidArgument (naming
  // the first bad block) otherwise.
  static Status CheckChain(const wire::BlockChain& chain, uint32_t block_tokens);

  // The entry of `key`, or nullptr.
  BlockEntry* Find(const Key128& key);
  bool Contains(const Key128& key) const;
  size_t size() const;

  // Creates the entry of a block (reserved: Residency::Reserved()) with this
  // identity; nullptr when `key` is already indexed.
  BlockEntry* Insert(const Key128& key, const Key128& parent, const Key128& ns_id,
                     std::span<const TokenId> tokens, uint64_t bytes);
  // Destroys `e`; it must be in no LRU list.
  void Erase(BlockEntry* e);

  // Appends to `out` the entries of the longest prefix of the chain's first
  // `max_blocks` blocks that are ready and verified: same namespace, parent
  // and tokens as the chain's. The chain's tokens must be keys * block_tokens.
  void MatchPrefix(const Key128& ns_id, uint32_t block_tokens, const wire::BlockChain& chain,
                   size_t max_blocks, std::vector<BlockEntry*>* out);

  // Calls `visit` on every entry, in no particular order; `visit` must not
  // insert or erase.
  void ForEach(const std::function<void(BlockEntry*)>& visit);

 private:
  // The pool of records of this many bytes (RecordBytes: an entry and its tokens).
  RecordPool& PoolFor(size_t record_bytes);
  static size_t RecordBytes(size_t tokens);

  // Entries live in records of the pools (one pool per token count in use),
  // found through the table.
  KeyTable<BlockEntry> table_;
  std::vector<std::unique_ptr<RecordPool>> pools_;
};

}  // namespace tierkv
