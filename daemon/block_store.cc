#include "daemon/block_store.h"

#include <algorithm>
#include <cstring>

namespace tierkv {

BlockStore::BlockStore(HostTier* host, BlockStoreOptions options)
    : host_(host), options_(options) {}

BlockStore::~BlockStore() {
  // GPU copy callbacks name this store: run them while it still exists.
  DrainGpu();
  // Lists do not own their entries; unlink everything before the index goes.
  for (auto& [key, e] : index_) Unlink(e.get());
}

LruList<BlockEntry>& BlockStore::HostLru(uint32_t size_class) {
  while (host_lru_by_class_.size() <= size_class) {
    host_lru_by_class_.push_back(std::make_unique<LruList<BlockEntry>>());
  }
  return *host_lru_by_class_[size_class];
}

BlockEntry* BlockStore::Find(const Key128& key) {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : it->second.get();
}

void BlockStore::Unlink(BlockEntry* e) {
  if (e->GpuLruHook::linked()) GpuLru(e->gpu_slot.size_class).Unlink(e);
  if (!e->LruHook::linked()) return;
  if (e->on_host) {
    HostLru(e->host_slot.size_class).Unlink(e);
  } else {
    nvme_lru_.Unlink(e);
  }
}

void BlockStore::Relink(BlockEntry* e) {
  if (e->state != BlockState::kReady || e->pins > 0 || e->promoting) return;
  if (e->on_gpu) GpuLru(e->gpu_slot.size_class).PushFront(e);
  if (e->gpu_filling) return;  // the host copy is being read: it stays put
  if (e->on_host) {
    HostLru(e->host_slot.size_class).PushFront(e);
  } else if (e->on_nvme) {
    nvme_lru_.PushFront(e);
  }
}

void BlockStore::CountReady(BlockEntry* e, int delta) {
  uint64_t& n = blocks_by_ns_[e->ns_id];
  n += delta;
  if (n == 0) blocks_by_ns_.erase(e->ns_id);
}

uint64_t BlockStore::BlocksOf(const Key128& ns_id) const {
  auto it = blocks_by_ns_.find(ns_id);
  return it == blocks_by_ns_.end() ? 0 : it->second;
}

void BlockStore::AddNvmeBlock(const nvme::BlockRecord& record) {
  auto e = std::make_unique<BlockEntry>();
  e->key = record.key;
  e->parent = record.parent;
  e->ns_id = record.namespace_id;
  e->tokens = record.tokens;
  e->bytes = record.length;
  e->state = BlockState::kReady;
  e->on_nvme = true;
  BlockEntry* raw = e.get();
  index_.emplace(record.key, std::move(e));
  CountReady(raw, +1);
  Relink(raw);  // the caller replays blocks oldest first
}

void BlockStore::AttachNvme(nvme::NvmeStore* nvme) { nvme_ = nvme; }

bool BlockStore::Verified(const BlockEntry& e, const NamespaceInfo& ns, const Key128& parent,
                          std::span<const TokenId> tokens) const {
  return e.state == BlockState::kReady && e.ns_id == ns.id && e.parent == parent &&
         e.tokens.size() == tokens.size() &&
         std::equal(e.tokens.begin(), e.tokens.end(), tokens.begin());
}

std::vector<BlockEntry*> BlockStore::Match(const NamespaceInfo& ns, const wire::BlockChain& chain,
                                           uint32_t max_blocks, bool count_stats) {
  std::vector<BlockEntry*> matched;
  const uint32_t bt = ns.spec.block_tokens;
  const size_t n = std::min<size_t>(chain.keys.size(), max_blocks);
  Key128 parent = chain.parent;
  for (size_t i = 0; i < n; ++i) {
    BlockEntry* e = Find(chain.keys[i]);
    if (!e || !Verified(*e, ns, parent, std::span(chain.tokens).subspan(i * bt, bt))) break;
    matched.push_back(e);
    parent = chain.keys[i];
  }
  // A hit counts on the fastest tier holding the block; a miss on every tier
  // above the one that hit (or on all of them).
  uint64_t on_gpu = 0;
  uint64_t on_host = 0;  // and not on the GPU
  for (auto it = matched.rbegin(); it != matched.rend(); ++it) {
    BlockEntry* e = *it;
    on_gpu += e->on_gpu;
    on_host += e->on_host && !e->on_gpu;
    Relink(e);
  }
  if (!count_stats) return matched;
  if (gpu_) {
    gpu_counters_.hits += on_gpu;
    gpu_counters_.misses += n - on_gpu;
  }
  host_counters_.hits += on_host;
  host_counters_.misses += n - on_gpu - on_host;
  nvme_counters_.hits += matched.size() - on_gpu - on_host;
  nvme_counters_.misses += n - matched.size();
  NamespaceInfo& stats = const_cast<NamespaceInfo&>(ns);
  stats.hits += matched.size();
  stats.misses += n - matched.size();
  return matched;
}

void BlockStore::Pin(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) {
    if (e->pins++ == 0) {
      ++pinned_blocks_;
      Unlink(e);
    }
  }
}

void BlockStore::Unpin(std::span<BlockEntry* const> entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    BlockEntry* e = *it;
    if (--e->pins == 0) {
      --pinned_blocks_;
      Relink(e);
    }
  }
}

Result<std::vector<BlockEntry*>> BlockStore::Reserve(const NamespaceInfo& ns,
                                                     const wire::BlockChain& chain) {
  const uint32_t bt = ns.spec.block_tokens;
  if (chain.tokens.size() != chain.keys.size() * bt) {
    return Status::InvalidArgument("chain carries " + std::to_string(chain.tokens.size()) +
                                   " tokens for " + std::to_string(chain.keys.size()) +
                                   " blocks of " + std::to_string(bt));
  }
  Key128 parent = chain.parent;
  for (size_t i = 0; i < chain.keys.size(); ++i) {
    if (NextBlockKey(parent, std::span(chain.tokens).subspan(i * bt, bt)) != chain.keys[i]) {
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
            "host tier is full: " + std::to_string(pinned_blocks_) + " blocks pinned, the rest " +
            "being written or moved; none evictable");
      }
      return slot.status();
    }
    // Making room may have run NVMe completions; the key may exist by now.
    if (index_.contains(key)) {
      host_->Free(*slot);
      continue;
    }
    auto e = std::make_unique<BlockEntry>();
    e->key = key;
    e->parent = block_parent;
    e->ns_id = ns.id;
    const auto tokens = std::span(chain.tokens).subspan(i * bt, bt);
    e->tokens.assign(tokens.begin(), tokens.end());
    e->bytes = ns.spec.block_bytes;
    e->host_slot = *slot;
    out[i] = e.get();
    index_.emplace(key, std::move(e));
  }
  return out;
}

void BlockStore::Commit(std::span<BlockEntry* const> entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    BlockEntry* e = *it;
    e->state = BlockState::kReady;
    e->on_host = true;
    ++host_blocks_;
    CountReady(e, +1);
    host_counters_.bytes_in += e->bytes;
    Relink(e);
  }
  MaybeClean();
}

void BlockStore::Abort(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) {
    host_->Free(e->host_slot);
    index_.erase(e->key);
  }
}

bool BlockStore::MakeRoom(uint32_t size_class) {
  if (EvictOneFromHost(HostLru(size_class))) return true;
  // Nothing of this size can leave: empty slabs of other sizes until one is
  // free, least recently used blocks first within each class.
  for (size_t c = 0; c < host_lru_by_class_.size(); ++c) {
    while (!host_->HasFreeSlab() && EvictOneFromHost(*host_lru_by_class_[c])) {
    }
    if (host_->HasFreeSlab()) return true;
  }
  return false;
}

bool BlockStore::EvictOneFromHost(LruList<BlockEntry>& lru) {
  BlockEntry* victim = lru.Back();
  if (!victim) return false;
  if (nvme_ && !victim->on_nvme) {
    const Key128 key = victim->key;
    if (victim->demoting || StartDemotion(victim)) {
      WaitForDemotion(key);
      victim = Find(key);
      if (!victim) return true;  // dropped meanwhile: its slot is free
      if (!victim->on_host || victim->pins > 0 || victim->promoting) return true;
    }
  }
  ++host_counters_.evictions;
  if (victim->on_nvme) {
    DropHostCopy(victim);
  } else {
    Drop(victim);
  }
  return true;
}

void BlockStore::DropHostCopy(BlockEntry* e) {
  if (e->on_gpu) DropGpuCopy(e);  // a GPU copy never outlives the host copy
  Unlink(e);
  host_->Free(e->host_slot);
  e->on_host = false;
  --host_blocks_;
  ++demotions_;
  Relink(e);
}

void BlockStore::Drop(BlockEntry* e) {
  Unlink(e);
  if (e->state == BlockState::kReady) CountReady(e, -1);
  // A GPU copy in flight frees its own slot when it completes (OnGpuFillDone).
  if (e->on_gpu) DropGpuCopy(e);
  if (e->on_host) {
    host_->Free(e->host_slot);
    --host_blocks_;
  }
  if (nvme_ && (e->on_nvme || e->demoting)) {
    // Abandons a write in flight too; its callback then finds no entry.
    Status s = nvme_->Remove(e->key);
    (void)s;  // NotFound when the write had not reached the index: nothing left there
  }
  ++dropped_;
  auto waiters = std::move(e->move_waiters);
  index_.erase(e->key);  // destroys e
  for (auto& w : waiters) w();
}

uint64_t BlockStore::Evict(const Key128* ns_id) {
  // A block being copied up is in no list; let those copies finish first.
  DrainGpu();
  std::vector<BlockEntry*> victims;
  auto collect = [&](LruList<BlockEntry>& lru) {
    for (BlockEntry* e = lru.Back(); e; e = lru.Newer(e)) {
      if (!ns_id || e->ns_id == *ns_id) victims.push_back(e);
    }
  };
  for (auto& lru : host_lru_by_class_) collect(*lru);
  collect(nvme_lru_);
  for (BlockEntry* e : victims) Drop(e);
  host_counters_.evictions += victims.size();
  return victims.size();
}

}  // namespace tierkv
