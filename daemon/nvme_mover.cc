#include "daemon/nvme_mover.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

namespace tierkv {
namespace {

// How many LRU-tail blocks one cleaning pass looks at per size class.
constexpr int kCleanScan = 256;
// How many NVMe LRU blocks may be dropped to fit one write.
constexpr int kNvmeDropsPerWrite = 64;

uint64_t NowMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

NvmeMover::NvmeMover(nvme::NvmeStore* nvme, BlockIndex* index, HostPlacement* host,
                     StoreCounters* counters, const StoreEvents* events, BlockLifecycle* store,
                     CleaningOptions options)
    : nvme_(nvme),
      index_(index),
      host_(host),
      counters_(counters),
      events_(events),
      store_(store),
      options_(options) {}

void NvmeMover::Replay(const nvme::BlockRecord& record) {
  BlockEntry* e =
      index_->Insert(record.key, record.parent, record.namespace_id, record.tokens, record.length);
  if (!e) return;  // the NVMe index holds each key once
  e->residency = Residency::OnNvme();
  counters_->CountReady(e->ns_id, +1);
  events_->Added(*e, Medium::kDisk);
  Link(e);
}

void NvmeMover::Clean() {
  const HostTier& tier = host_->tier();
  const double used = static_cast<double>(tier.used_bytes());
  if (used <= options_.clean_above * static_cast<double>(tier.capacity_bytes())) return;
  for (uint32_t c = 0; c < host_->size_classes(); ++c) {
    LruList<BlockEntry>& lru = host_->Lru(c);
    int scanned = 0;
    for (BlockEntry* e = lru.Back(); e && scanned < kCleanScan; e = lru.Newer(e), ++scanned) {
      if (writes_in_flight_ >= options_.max_cleaning_writes) return;
      if (e->residency.nvme() != Residency::Nvme::kNone) continue;
      // A block that cannot go (too large, disk full) is skipped.
      if (Status s = StartWrite(e, nullptr); !s.ok() && s.code() != StatusCode::kAlreadyExists) {
        spdlog::debug("cleaning of {} not started: {}", ToHex(e->key), s.ToString());
      }
    }
  }
}

NvmeMover::Leave NvmeMover::PrepareToLeave(BlockEntry* e) {
  if (e->residency.clean()) return Leave::kNow;
  if (e->residency.nvme() == Residency::Nvme::kNone) {
    Status s = StartWrite(e, nullptr);
    if (e->residency.clean()) return Leave::kNow;  // NVMe had it already
    if (!s.ok()) {
      spdlog::debug("demotion of {} not started: {}", ToHex(e->key), s.ToString());
      return Leave::kDrop;
    }
  }
  moving_[e->key].drop_if_failed = true;
  return Leave::kWaiting;
}

Status NvmeMover::StartWrite(BlockEntry* e, std::function<void(Status)> done) {
  const Key128 key = e->key;
  const nvme::BlockMeta meta{
      key, e->parent, e->ns_id, {e->tokens().begin(), e->tokens().end()}, NowMillis()};
  nvme::NvmeStore::Callback on_done = [this, key, done = std::move(done)](Status s) {
    OnWritten(key, s);
    if (done) done(s);
  };
  for (int attempt = 0;; ++attempt) {
    Status s = nvme_->Write(meta, host_->Payload(*e), on_done);
    if (s.ok()) {
      e->residency.BeginDemotion();
      ++writes_in_flight_;  // every such write ends in OnWritten
      moving_.try_emplace(key);
      return s;
    }
    if (s.code() == StatusCode::kAlreadyExists) {
      // A copy from before a restart, or a write of a dropped block of the
      // same key still in flight: only an indexed copy counts.
      if (nvme_->Contains(key)) {
        e->residency.AdoptNvmeCopy();
        events_->Added(*e, Medium::kDisk);
      }
      return s;
    }
    // A full NVMe tier drops its own least recently used blocks to fit.
    if (!s.IsResourceExhausted() || attempt == kNvmeDropsPerWrite || !DropLru()) return s;
  }
}

void NvmeMover::OnWritten(const Key128& key, const Status& s) {
  --writes_in_flight_;
  bool drop_if_failed = false;
  if (auto it = moving_.find(key); it != moving_.end()) drop_if_failed = it->second.drop_if_failed;
  BlockEntry* e = index_->Find(key);
  // The block may have been dropped (and even stored again) meanwhile: only
  // an entry waiting for a write is this write's block.
  if (e && e->residency.nvme() == Residency::Nvme::kWriting) {
    e->residency.EndDemotion(s.ok());
    if (s.ok()) {
      counters_->nvme.bytes_in += e->bytes;
      events_->Added(*e, Medium::kDisk);
    } else {
      if (!s.IsNotFound()) spdlog::warn("NVMe write of block {}: {}", ToHex(key), s.ToString());
      // Still in its host list: neither pinned nor touched into a GPU copy.
      if (drop_if_failed && e->pins == 0 && e->LruHook::linked()) {
        ++counters_->host.evictions;
        store_->Drop(e);
      }
    }
  }
  Settle(key);
}

bool NvmeMover::StartPromotion(BlockEntry* e, const TierSlot& slot) {
  const Key128 key = e->key;
  store_->Unlink(e);
  e->residency.BeginPromotion();
  e->host_slot = slot;
  Status s =
      nvme_->Read(key, host_->Payload(*e), [this, key](Status done) { OnPromoted(key, done); });
  if (s.ok()) {
    moving_.try_emplace(key);
    return true;
  }
  host_->Free(slot);
  e->residency.EndPromotion(false);
  if (s.IsNotFound()) {
    store_->Drop(e);
  } else {
    spdlog::warn("NVMe read of block {} not started: {}", ToHex(key), s.ToString());
    store_->Relink(e);
  }
  return false;
}

void NvmeMover::OnPromoted(const Key128& key, const Status& s) {
  BlockEntry* e = index_->Find(key);
  if (e && e->residency.host() == Residency::Host::kPromoting) {
    if (s.ok()) {
      e->residency.EndPromotion(true);
      ++counters_->host_blocks;
      ++counters_->promotions;
      counters_->nvme.bytes_out += e->bytes;
      events_->Added(*e, Medium::kCpu);
      store_->Relink(e);
    } else {
      host_->Free(e->host_slot);
      e->residency.EndPromotion(false);
      if (s.IsCorruption()) {
        // The NVMe tier already dropped the bad copy; the block is gone.
        spdlog::warn("block {} failed its checksum on NVMe and was dropped", ToHex(key));
        store_->Drop(e);
      } else {
        spdlog::warn("NVMe read of block {}: {}", ToHex(key), s.ToString());
        store_->Relink(e);
      }
    }
  }
  Settle(key);
}

bool NvmeMover::WhenSettled(const Key128& key, std::function<void()> waiter) {
  auto it = moving_.find(key);
  if (it == moving_.end()) return false;
  it->second.waiters.push_back(std::move(waiter));
  return true;
}

void NvmeMover::Settle(const Key128& key) {
  auto it = moving_.find(key);
  if (it == moving_.end()) return;
  std::vector<std::function<void()>> waiters = std::move(it->second.waiters);
  moving_.erase(it);
  for (auto& w : waiters) w();
}

std::optional<FlushResult> NvmeMover::Flush(std::function<void(FlushResult)> done) {
  struct FlushState {
    size_t pending = 0;
    FlushResult result;
    std::function<void(FlushResult)> done;
    void FinishOne() {
      if (--pending == 0 && done) done(result);
    }
  };
  auto state = std::make_shared<FlushState>();
  // Keys first: starting a write may drop NVMe-only blocks from the index.
  std::vector<Key128> dirty;
  index_->ForEach([&](BlockEntry* e) {
    if (e->residency.on_host() && !e->residency.on_nvme()) dirty.push_back(e->key);
  });
  for (const Key128& key : dirty) {
    BlockEntry* e = index_->Find(key);
    if (!e || !e->residency.on_host() || e->residency.on_nvme()) continue;
    if (e->residency.nvme() == Residency::Nvme::kWriting) {
      // A background write is already under way: wait for it too.
      ++state->pending;
      WhenSettled(key, [this, state, key] {
        BlockEntry* written = index_->Find(key);
        if (written && written->residency.on_nvme()) ++state->result.written;
        state->FinishOne();
      });
      continue;
    }
    Status s = StartWrite(e, [state](Status r) {
      if (r.ok()) ++state->result.written;
      // NotFound: dropped meanwhile; nothing is left to make durable.
      if (!r.ok() && !r.IsNotFound() && state->result.first_error.ok()) {
        state->result.first_error = r;
      }
      state->FinishOne();
    });
    if (s.ok()) {
      ++state->pending;
    } else if (s.code() != StatusCode::kAlreadyExists && state->result.first_error.ok()) {
      state->result.first_error = s;
    }
  }
  spdlog::debug("flush: {} NVMe writes to wait for", state->pending);
  if (state->pending == 0) return state->result;
  state->done = std::move(done);
  return std::nullopt;
}

void NvmeMover::Forget(const BlockEntry& e) {
  if (e.residency.nvme() == Residency::Nvme::kNone) return;
  if (e.residency.on_nvme()) events_->Removed(e, Medium::kDisk);
  // NotFound: a write that had not reached the index; nothing is left there.
  if (Status s = nvme_->Remove(e.key); !s.ok() && !s.IsNotFound()) {
    spdlog::warn("NVMe copy of dropped block {} not removed: {}", ToHex(e.key), s.ToString());
  }
}

bool NvmeMover::DropLru() {
  BlockEntry* victim = lru_.Back();
  if (!victim) return false;
  ++counters_->nvme.evictions;
  store_->Drop(victim);
  return true;
}

}  // namespace tierkv
