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
  index_.ForEach([this](BlockEntry* e) { Unlink(e); });
}

LruList<BlockEntry>& BlockStore::HostLru(uint32_t size_class) {
  while (host_lru_by_class_.size() <= size_class) {
    host_lru_by_class_.push_back(std::make_unique<LruList<BlockEntry>>());
  }
  return *host_lru_by_class_[size_class];
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

void BlockStore::AddNvmeBlock(const nvme::BlockRecord& record) {
  BlockEntry* e = index_.Insert(record.key, record.parent, record.namespace_id, record.tokens,
                                record.length);
  if (!e) return;  // the NVMe index holds each key once
  e->state = BlockState::kReady;
  e->on_nvme = true;
  counters_.CountReady(e->ns_id, +1);
  Relink(e);  // the caller replays blocks oldest first
}

void BlockStore::AttachNvme(nvme::NvmeStore* nvme) { nvme_ = nvme; }

std::vector<BlockEntry*> BlockStore::Match(const NamespaceInfo& ns, const wire::BlockChain& chain,
                                           uint32_t max_blocks, bool count_stats) {
  std::vector<BlockEntry*> matched;
  const size_t asked = std::min<size_t>(chain.keys.size(), max_blocks);
  index_.MatchPrefix(ns.id, ns.spec.block_tokens, chain, asked, &matched);
  LookupTally tally;
  tally.asked = asked;
  for (auto it = matched.rbegin(); it != matched.rend(); ++it) {
    BlockEntry* e = *it;
    tally.on_gpu += e->on_gpu;
    tally.on_host += e->on_host && !e->on_gpu;
    Relink(e);
  }
  tally.on_nvme = matched.size() - tally.on_gpu - tally.on_host;
  if (count_stats) counters_.CountLookup(ns.id, tally, gpu_ != nullptr);
  return matched;
}

void BlockStore::Pin(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) {
    if (e->pins++ == 0) {
      ++counters_.pinned_blocks;
      Unlink(e);
    }
  }
}

void BlockStore::Unpin(std::span<BlockEntry* const> entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    BlockEntry* e = *it;
    if (--e->pins == 0) {
      --counters_.pinned_blocks;
      Relink(e);
    }
  }
}

Result<std::vector<BlockEntry*>> BlockStore::Reserve(const NamespaceInfo& ns,
                                                     const wire::BlockChain& chain) {
  const uint32_t bt = ns.spec.block_tokens;
  TIERKV_RETURN_IF_ERROR(BlockIndex::CheckChain(chain, bt));

  std::vector<BlockEntry*> out(chain.keys.size(), nullptr);
  const uint32_t size_class = host_->SizeClassFor(ns.spec.block_bytes);
  Key128 parent = chain.parent;
  for (size_t i = 0; i < chain.keys.size(); ++i) {
    const Key128 key = chain.keys[i];
    const Key128 block_parent = parent;
    parent = key;
    if (index_.Contains(key)) continue;  // stored or being written: nothing to do
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
            "host tier is full: " + std::to_string(counters_.pinned_blocks) + " blocks pinned, the rest " +
            "being written or moved; none evictable");
      }
      return slot.status();
    }
    // Making room may have run NVMe completions; the key may exist by now.
    BlockEntry* e = index_.Insert(key, block_parent, ns.id,
                                  std::span(chain.tokens).subspan(i * bt, bt),
                                  ns.spec.block_bytes);
    if (!e) {
      host_->Free(*slot);
      continue;
    }
    e->host_slot = *slot;
    out[i] = e;
  }
  return out;
}

void BlockStore::Commit(std::span<BlockEntry* const> entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    BlockEntry* e = *it;
    e->state = BlockState::kReady;
    e->on_host = true;
    ++counters_.host_blocks;
    counters_.CountReady(e->ns_id, +1);
    counters_.host.bytes_in += e->bytes;
    Relink(e);
  }
  MaybeClean();
}

void BlockStore::Abort(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) {
    host_->Free(e->host_slot);
    index_.Erase(e);
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
      victim = index_.Find(key);
      if (!victim) return true;  // dropped meanwhile: its slot is free
      if (!victim->on_host || victim->pins > 0 || victim->promoting) return true;
    }
  }
  ++counters_.host.evictions;
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
  --counters_.host_blocks;
  ++counters_.demotions;
  Relink(e);
}

void BlockStore::Drop(BlockEntry* e) {
  Unlink(e);
  if (e->state == BlockState::kReady) counters_.CountReady(e->ns_id, -1);
  // A GPU copy in flight frees its own slot when it completes (OnGpuFillDone).
  if (e->on_gpu) DropGpuCopy(e);
  if (e->on_host) {
    host_->Free(e->host_slot);
    --counters_.host_blocks;
  }
  if (nvme_ && (e->on_nvme || e->demoting)) {
    // Abandons a write in flight too; its callback then finds no entry.
    Status s = nvme_->Remove(e->key);
    (void)s;  // NotFound when the write had not reached the index: nothing left there
  }
  ++counters_.dropped_blocks;
  auto waiters = std::move(e->move_waiters);
  index_.Erase(e);
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
  counters_.host.evictions += victims.size();
  return victims.size();
}

}  // namespace tierkv
