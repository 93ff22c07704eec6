#include "daemon/block_index.h"

#include <algorithm>
#include <string>

namespace tierkv {

BlockIndex::BlockIndex() = default;
BlockIndex::~BlockIndex() = default;

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

BlockEntry* BlockIndex::Find(const Key128& key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.get();
}

bool BlockIndex::Contains(const Key128& key) const { return entries_.contains(key); }

size_t BlockIndex::size() const { return entries_.size(); }

BlockEntry* BlockIndex::Insert(const Key128& key, const Key128& parent, const Key128& ns_id,
                               std::span<const TokenId> tokens, uint64_t bytes) {
  auto [it, inserted] = entries_.try_emplace(key);
  if (!inserted) return nullptr;
  it->second = std::make_unique<BlockEntry>();
  BlockEntry* e = it->second.get();
  e->key = key;
  e->parent = parent;
  e->ns_id = ns_id;
  e->bytes = bytes;
  e->token_ids_.assign(tokens.begin(), tokens.end());
  return e;
}

void BlockIndex::Erase(BlockEntry* e) {
  const Key128 key = e->key;  // erasing destroys e, and the key it holds
  entries_.erase(key);
}

void BlockIndex::MatchPrefix(const Key128& ns_id, uint32_t block_tokens,
                             const wire::BlockChain& chain, size_t max_blocks,
                             std::vector<BlockEntry*>* out) {
  const size_t n = std::min(chain.keys.size(), max_blocks);
  Key128 parent = chain.parent;
  for (size_t i = 0; i < n; ++i) {
    BlockEntry* e = Find(chain.keys[i]);
    if (!e || e->state != BlockState::kReady || e->ns_id != ns_id || e->parent != parent) break;
    const auto tokens = std::span(chain.tokens).subspan(i * block_tokens, block_tokens);
    if (!std::ranges::equal(e->tokens(), tokens)) break;
    out->push_back(e);
    parent = chain.keys[i];
  }
}

void BlockIndex::ForEach(const std::function<void(BlockEntry*)>& visit) {
  for (auto& [key, e] : entries_) visit(e.get());
}

}  // namespace tierkv
