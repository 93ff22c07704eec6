#include "block_store.h"

#include <algorithm>
#include <cstring>

namespace tierkv {

BlockStore::BlockStore(HostTier* host) : host_(host) {}

BlockStore::~BlockStore() {
  for (auto& [key, e] : index_) {
    if (e->linked()) LruFor(e->host_slot.size_class).Unlink(e.get());
  }
}

LruList<BlockEntry>& BlockStore::LruFor(uint32_t size_class) {
  while (lru_by_class_.size() <= size_class) {
    lru_by_class_.push_back(std::make_unique<LruList<BlockEntry>>());
  }
  return *lru_by_class_[size_class];
}

bool BlockStore::Verified(const BlockEntry& e, const NamespaceInfo& ns, const Key128& parent,
                          std::span<const TokenId> tokens) const {
  return e.state == BlockState::kReady && e.ns == &ns && e.parent == parent &&
         e.tokens.size() == tokens.size() &&
         std::equal(e.tokens.begin(), e.tokens.end(), tokens.begin());
}

std::vector<BlockEntry*> BlockStore::Match(NamespaceInfo& ns, const wire::BlockChain& chain,
                                           uint32_t max_blocks) {
  std::vector<BlockEntry*> matched;
  const uint32_t bt = ns.spec.block_tokens;
  const size_t n = std::min<size_t>(chain.keys.size(), max_blocks);
  Key128 parent = chain.parent;
  for (size_t i = 0; i < n; ++i) {
    auto it = index_.find(chain.keys[i]);
    if (it == index_.end()) break;
    const auto tokens = std::span(chain.tokens).subspan(i * bt, bt);
    if (!Verified(*it->second, ns, parent, tokens)) break;
    matched.push_back(it->second.get());
    parent = chain.keys[i];
  }
  for (auto it = matched.rbegin(); it != matched.rend(); ++it) {
    BlockEntry* e = *it;
    if (e->linked()) LruFor(e->host_slot.size_class).PushFront(e);
  }
  host_counters_.hits += matched.size();
  ns.hits += matched.size();
  if (matched.size() < n) {
    ++host_counters_.misses;
    ++ns.misses;
  }
  return matched;
}

void BlockStore::Pin(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) {
    if (e->pins++ == 0) {
      ++pinned_blocks_;
      if (e->linked()) LruFor(e->host_slot.size_class).Unlink(e);
    }
  }
}

void BlockStore::Unpin(std::span<BlockEntry* const> entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    BlockEntry* e = *it;
    if (--e->pins == 0) {
      --pinned_blocks_;
      LruFor(e->host_slot.size_class).PushFront(e);
    }
  }
}

Result<std::vector<BlockEntry*>> BlockStore::Reserve(NamespaceInfo& ns,
                                                     const wire::BlockChain& chain) {
  const uint32_t bt = ns.spec.block_tokens;
  if (chain.tokens.size() != chain.keys.size() * bt) {
    return Status::InvalidArgument("chain carries " + std::to_string(chain.tokens.size()) +
                                   " tokens for " + std::to_string(chain.keys.size()) +
                                   " blocks of " + std::to_string(bt));
  }
  Key128 parent = chain.parent;
  for (size_t i = 0; i < chain.keys.size(); ++i) {
    const auto tokens = std::span(chain.tokens).subspan(i * bt, bt);
    if (NextBlockKey(parent, tokens) != chain.keys[i]) {
      return Status::InvalidArgument("block " + std::to_string(i) +
                                     ": key is not the hash of its parent and tokens");
    }
    parent = chain.keys[i];
  }

  std::vector<BlockEntry*> out(chain.keys.size(), nullptr);
  const uint32_t size_class = host_->SizeClassFor(ns.spec.block_bytes);
  parent = chain.parent;
  for (size_t i = 0; i < chain.keys.size(); ++i) {
    const Key128 key = chain.keys[i];
    const Key128 block_parent = parent;
    parent = key;
    if (index_.contains(key)) continue;  // stored or being written: nothing to do
    auto slot = host_->Allocate(ns.spec.block_bytes);
    while (!slot.ok() && slot.status().IsResourceExhausted() && MakeRoom(size_class)) {
      slot = host_->Allocate(ns.spec.block_bytes);
    }
    if (!slot.ok()) {
      std::vector<BlockEntry*> reserved;
      for (BlockEntry* e : out) {
        if (e) reserved.push_back(e);
      }
      Abort(reserved);
      if (slot.status().IsResourceExhausted()) {
        return Status::ResourceExhausted(
            "host tier is full: " + std::to_string(pinned_blocks_) + " blocks pinned and " +
            std::to_string(index_.size() - ready_blocks_) + " being written, none evictable");
      }
      return slot.status();
    }
    auto e = std::make_unique<BlockEntry>();
    e->key = key;
    e->parent = block_parent;
    e->ns = &ns;
    const auto tokens = std::span(chain.tokens).subspan(i * bt, bt);
    e->tokens.assign(tokens.begin(), tokens.end());
    e->host_slot = *slot;
    out[i] = e.get();
    index_.emplace(key, std::move(e));
  }
  return out;
}

void BlockStore::Commit(std::span<BlockEntry* const> entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    BlockEntry* e = *it;
    const uint64_t bytes = e->ns->spec.block_bytes;
    e->checksum = PayloadChecksum({host_->At(e->host_slot.offset), bytes});
    e->state = BlockState::kReady;
    ++ready_blocks_;
    ++e->ns->blocks;
    host_counters_.bytes_in += bytes;
    LruFor(e->host_slot.size_class).PushFront(e);
  }
}

void BlockStore::Abort(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) Drop(e);
}

bool BlockStore::MakeRoom(uint32_t size_class) {
  LruList<BlockEntry>& own = LruFor(size_class);
  if (BlockEntry* victim = own.Back()) {
    Drop(victim);
    ++host_counters_.evictions;
    return true;
  }
  // Nothing of this size to evict: empty slabs of other sizes until one is
  // free, least recently used blocks first within each class.
  for (auto& lru : lru_by_class_) {
    while (!host_->HasFreeSlab() && !lru->empty()) {
      Drop(lru->Back());
      ++host_counters_.evictions;
    }
    if (host_->HasFreeSlab()) return true;
  }
  return false;
}

void BlockStore::Drop(BlockEntry* e) {
  if (e->linked()) LruFor(e->host_slot.size_class).Unlink(e);
  if (e->state == BlockState::kReady) {
    --ready_blocks_;
    --e->ns->blocks;
  }
  host_->Free(e->host_slot);
  index_.erase(e->key);  // destroys e
}

uint64_t BlockStore::Evict(const NamespaceInfo* ns) {
  std::vector<BlockEntry*> victims;
  for (auto& lru : lru_by_class_) {
    for (BlockEntry* e = lru->Back(); e; e = lru->Newer(e)) {
      if (!ns || e->ns == ns) victims.push_back(e);
    }
  }
  for (BlockEntry* e : victims) Drop(e);
  host_counters_.evictions += victims.size();
  return victims.size();
}

}  // namespace tierkv
