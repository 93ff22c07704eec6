// BlockStore: the GPU tier (copies up from the host tier, GPU LRU, dropping
// GPU copies). See block_store.h for the rules.
#include <spdlog/spdlog.h>

#include "daemon/block_store.h"

namespace tierkv {

void BlockStore::AttachGpu(GpuTier* gpu) { gpu_ = gpu; }

LruList<BlockEntry, GpuLruHook>& BlockStore::GpuLru(uint32_t size_class) {
  while (gpu_lru_by_class_.size() <= size_class) {
    gpu_lru_by_class_.push_back(std::make_unique<LruList<BlockEntry, GpuLruHook>>());
  }
  return *gpu_lru_by_class_[size_class];
}

void BlockStore::StartGpuFills(std::span<BlockEntry* const> entries) {
  if (!gpu_) return;
  for (BlockEntry* e : entries) StartGpuFill(e);
}

bool BlockStore::StartGpuFill(BlockEntry* e) {
  if (e->state != BlockState::kReady || !e->on_host || e->on_gpu || e->gpu_filling ||
      e->promoting || e->bytes > gpu_->max_block_bytes()) {
    return false;
  }
  const uint32_t size_class = gpu_->SizeClassFor(e->bytes);
  auto slot = gpu_->Allocate(e->bytes);
  while (!slot.ok() && slot.status().IsResourceExhausted() && MakeGpuRoom(size_class)) {
    slot = gpu_->Allocate(e->bytes);
  }
  if (!slot.ok()) return false;  // every GPU copy is pinned: serve from the host
  Unlink(e);
  e->gpu_filling = true;
  e->gpu_slot = *slot;
  const Key128 key = e->key;
  const TierSlot gpu_slot = *slot;
  const std::span<const std::byte> src(host_->At(e->host_slot.offset), e->bytes);
  Status s = gpu_->WriteAsync(gpu_slot, src, [this, key, gpu_slot](Status done) {
    OnGpuFillDone(key, gpu_slot, done);
  });
  if (!s.ok()) {
    ++counters_.gpu_copy_errors;
    spdlog::warn("GPU copy of block {} not started: {}", ToHex(key), s.ToString());
    gpu_->Free(gpu_slot);
    e->gpu_filling = false;
    Relink(e);
    return false;
  }
  return true;
}

void BlockStore::OnGpuFillDone(const Key128& key, const TierSlot& slot, Status s) {
  BlockEntry* e = index_.Find(key);
  // The block may have been dropped (and even stored again) meanwhile: only
  // the copy the entry is waiting for may become its GPU copy.
  const bool ours = e && e->gpu_filling && e->gpu_slot.offset == slot.offset &&
                    e->gpu_slot.size_class == slot.size_class;
  if (!ours) {
    gpu_->Free(slot);
    return;
  }
  e->gpu_filling = false;
  if (s.ok()) {
    Unlink(e);
    e->on_gpu = true;
    ++counters_.gpu_blocks;
    counters_.gpu.bytes_in += e->bytes;
  } else {
    ++counters_.gpu_copy_errors;
    spdlog::warn("GPU copy of block {}: {}", ToHex(key), s.ToString());
    gpu_->Free(slot);
  }
  Relink(e);
}

bool BlockStore::MakeGpuRoom(uint32_t size_class) {
  auto drop_tail = [this](LruList<BlockEntry, GpuLruHook>& lru) {
    BlockEntry* victim = lru.Back();
    if (!victim) return false;
    ++counters_.gpu.evictions;
    DropGpuCopy(victim);
    return true;
  };
  if (drop_tail(GpuLru(size_class))) return true;
  // Nothing of this size can leave: empty slabs of other sizes until one is free.
  for (size_t c = 0; c < gpu_lru_by_class_.size(); ++c) {
    while (!gpu_->HasFreeSlab() && drop_tail(*gpu_lru_by_class_[c])) {
    }
    if (gpu_->HasFreeSlab()) return true;
  }
  return false;
}

void BlockStore::DropGpuCopy(BlockEntry* e) {
  if (e->GpuLruHook::linked()) GpuLru(e->gpu_slot.size_class).Unlink(e);
  gpu_->Free(e->gpu_slot);
  e->on_gpu = false;
  --counters_.gpu_blocks;
}

void BlockStore::ReapGpu() {
  if (gpu_) gpu_->memory().ReapCompletions();
}

void BlockStore::DrainGpu() {
  if (gpu_) gpu_->memory().Drain();
}

}  // namespace tierkv
