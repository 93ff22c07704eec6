#include "daemon/gpu_mirror.h"

#include <spdlog/spdlog.h>

namespace tierkv {

GpuMirror::GpuMirror(GpuTier* gpu, BlockIndex* index, HostPlacement* host, StoreCounters* counters,
                     const StoreEvents* events, BlockLifecycle* store)
    : gpu_(gpu), index_(index), host_(host), counters_(counters), events_(events), store_(store) {}

LruList<BlockEntry, GpuLruHook>& GpuMirror::Lru(uint32_t size_class) {
  while (lru_by_class_.size() <= size_class) {
    lru_by_class_.push_back(std::make_unique<LruList<BlockEntry, GpuLruHook>>());
  }
  return *lru_by_class_[size_class];
}

void GpuMirror::StartFills(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) StartFill(e);
}

bool GpuMirror::StartFill(BlockEntry* e) {
  if (!e->residency.on_host() || e->residency.gpu() != Residency::Gpu::kNone ||
      e->bytes > gpu_->max_block_bytes()) {
    return false;
  }
  const uint32_t size_class = gpu_->SizeClassFor(e->bytes);
  auto slot = gpu_->Allocate(e->bytes);
  while (!slot.ok() && slot.status().IsResourceExhausted() && MakeRoom(size_class)) {
    slot = gpu_->Allocate(e->bytes);
  }
  if (!slot.ok()) return false;  // every GPU copy is pinned: serve from the host
  store_->Unlink(e);
  e->residency.BeginGpuFill();
  e->gpu_slot = *slot;
  const Key128 key = e->key;
  const TierSlot gpu_slot = *slot;
  Status s = gpu_->WriteAsync(gpu_slot, host_->Payload(*e), [this, key, gpu_slot](Status done) {
    OnFilled(key, gpu_slot, done);
  });
  if (!s.ok()) {
    ++counters_->gpu_copy_errors;
    spdlog::warn("GPU copy of block {} not started: {}", ToHex(key), s.ToString());
    gpu_->Free(gpu_slot);
    e->residency.EndGpuFill(false);
    store_->Relink(e);
    return false;
  }
  return true;
}

void GpuMirror::OnFilled(const Key128& key, const TierSlot& slot, const Status& s) {
  BlockEntry* e = index_->Find(key);
  // The block may have been dropped (and even stored again) meanwhile: only
  // the copy the entry is waiting for may become its GPU copy.
  const bool ours = e && e->residency.gpu() == Residency::Gpu::kFilling &&
                    e->gpu_slot.offset == slot.offset && e->gpu_slot.size_class == slot.size_class;
  if (!ours) {
    gpu_->Free(slot);
    return;
  }
  store_->Unlink(e);
  e->residency.EndGpuFill(s.ok());
  if (s.ok()) {
    ++counters_->gpu_blocks;
    if (e->pins > 0) ++counters_->gpu_pinned_blocks;
    counters_->gpu.bytes_in += e->bytes;
    events_->Added(*e, Medium::kGpu);
  } else {
    ++counters_->gpu_copy_errors;
    spdlog::warn("GPU copy of block {}: {}", ToHex(key), s.ToString());
    gpu_->Free(slot);
  }
  store_->Relink(e);
}

bool GpuMirror::MakeRoom(uint32_t size_class) {
  auto drop_tail = [this](LruList<BlockEntry, GpuLruHook>& lru) {
    BlockEntry* victim = lru.Back();
    if (!victim) return false;
    ++counters_->gpu.evictions;
    DropCopy(victim);
    return true;
  };
  if (drop_tail(Lru(size_class))) return true;
  // Nothing of this size can leave: empty slabs of other sizes until one is free.
  for (size_t c = 0; c < lru_by_class_.size(); ++c) {
    while (!gpu_->HasFreeSlab() && drop_tail(*lru_by_class_[c])) {
    }
    if (gpu_->HasFreeSlab()) return true;
  }
  return false;
}

void GpuMirror::DropCopy(BlockEntry* e) {
  if (e->GpuLruHook::linked()) Unlink(e);
  events_->Removed(*e, Medium::kGpu);
  gpu_->Free(e->gpu_slot);
  e->residency.DropGpuCopy();
  --counters_->gpu_blocks;
  if (e->pins > 0) --counters_->gpu_pinned_blocks;
}

void GpuMirror::Forget(BlockEntry* e) {
  if (e->residency.on_gpu()) DropCopy(e);
}

Result<GpuPoolExport> GpuMirror::Export() const {
  TIERKV_ASSIGN_OR_RETURN(DevicePoolExport pool, gpu_->memory().Export());
  return GpuPoolExport{std::move(pool), gpu_->memory().description()};
}

}  // namespace tierkv
