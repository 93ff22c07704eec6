#include "daemon/block_index.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

namespace tierkv {

BlockIndex::BlockIndex() = default;

BlockIndex::~BlockIndex() {
  table_.ForEach([](BlockEntry* e) { e->~BlockEntry(); });
}

Status BlockIndex::CheckChain(const wire::BlockChain& chain, uint32_t block_tokens) {
  if (chain.tokens.size() != chain.keys.size() * block_tokens) {
    return Status::InvalidArgument("chain carries " + std::to_string(chain.tokens.size()) +
                                   " tokens for " + std::to_string(chain.keys.size()) +
                                   " blocks of " + std::to_string(block_tokens));
  }
  Key128 parent = chain.parent;
  for (size_t i = 0; i < chain.keys.size(); ++i) {
    const auto tokens = std::span(chain.tokens).subspan(i * block_tokens, block_tokens);
    if (NextBlockKey(parent, tokens) != chain.keys[i]) {
      return Status::InvalidArgument("block " + std::to_string(i) +
                                     ": key is not the hash of its parent and tokens");
    }
    parent = chain.keys[i];
  }
  return Status::Ok();
}

BlockEntry* BlockIndex::Find(const Key128& key) { return table_.Find(key); }

bool BlockIndex::Contains(const Key128& key) const { return table_.Find(key) != nullptr; }

size_t BlockIndex::size() const { return table_.size(); }

size_t BlockIndex::RecordBytes(size_t tokens) {
  const size_t bytes = sizeof(BlockEntry) + tokens * sizeof(TokenId);
  return (bytes + RecordPool::kAlignment - 1) / RecordPool::kAlignment * RecordPool::kAlignment;
}

RecordPool& BlockIndex::PoolFor(size_t record_bytes) {
  // Few sizes are ever in use (one per block_tokens of the namespaces).
  for (auto& pool : pools_) {
    if (pool->record_bytes() == record_bytes) return *pool;
  }
  pools_.push_back(std::make_unique<RecordPool>(record_bytes));
  return *pools_.back();
}

BlockEntry* BlockIndex::Insert(const Key128& key, const Key128& parent, const Key128& ns_id,
                               std::span<const TokenId> tokens, uint64_t bytes) {
  if (table_.Find(key)) return nullptr;
  void* record = PoolFor(RecordBytes(tokens.size())).Allocate();
  BlockEntry* e = new (record) BlockEntry();
  e->key = key;
  e->parent = parent;
  e->ns_id = ns_id;
  e->bytes = bytes;
  e->token_count_ = static_cast<uint32_t>(tokens.size());
  if (!tokens.empty()) {
    std::memcpy(static_cast<std::byte*>(record) + sizeof(BlockEntry), tokens.data(),
                tokens.size_bytes());
  }
  table_.Insert(e);
  return e;
}

void BlockIndex::Erase(BlockEntry* e) {
  table_.Erase(e->key);
  RecordPool& pool = PoolFor(RecordBytes(e->token_count_));
  e->~BlockEntry();
  pool.Free(e);
}

namespace {

// Keys looked up together: their table probes, then their entries, are
// requested from memory at once, so a long prefix pays about one memory
// latency per chunk instead of several per block; a prefix that ends early
// wastes at most one chunk of lookups.
constexpr size_t kMatchChunk = 16;
constexpr size_t kCacheLineBytes = 64;

void PrefetchRecord(const BlockEntry* e, size_t record_bytes) {
  const auto* p = reinterpret_cast<const char*>(e);
  for (size_t at = 0; at < record_bytes; at += kCacheLineBytes) __builtin_prefetch(p + at);
}

}  // namespace

void BlockIndex::MatchPrefix(const Key128& ns_id, uint32_t block_tokens,
                             const wire::BlockChain& chain, size_t max_blocks,
                             std::vector<BlockEntry*>* out) {
  const size_t n = std::min(chain.keys.size(), max_blocks);
  const size_t token_bytes = size_t{block_tokens} * sizeof(TokenId);
  const size_t record_bytes = RecordBytes(block_tokens);
  out->reserve(out->size() + n);
  Key128 parent = chain.parent;
  for (size_t begin = 0; begin < n; begin += kMatchChunk) {
    const size_t end = std::min(n, begin + kMatchChunk);
    for (size_t i = begin; i < end; ++i) table_.Prefetch(chain.keys[i]);
    BlockEntry* found[kMatchChunk];
    for (size_t i = begin; i < end; ++i) {
      BlockEntry* e = table_.Find(chain.keys[i]);
      if (e) PrefetchRecord(e, record_bytes);
      found[i - begin] = e;
    }
    for (size_t i = begin; i < end; ++i) {
      const BlockEntry* e = found[i - begin];
      if (!e || !e->residency.ready() || e->ns_id != ns_id || e->parent != parent ||
          e->token_count_ != block_tokens ||
          std::memcmp(e->tokens().data(), chain.tokens.data() + i * block_tokens, token_bytes) !=
              0) {
        return;
      }
      out->push_back(found[i - begin]);
      parent = chain.keys[i];
    }
  }
}

void BlockIndex::ForEach(const std::function<void(BlockEntry*)>& visit) { table_.ForEach(visit); }

}  // namespace tierkv
