// BlockStore: movement between the host tier and the NVMe tier (demotion,
// promotion, cleaning, flush). See block_store.h for the rules.
#include <poll.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <vector>

#include "daemon/block_store.h"

namespace tierkv {
namespace {

constexpr int kPollMillis = 100;
// How many LRU-tail blocks one cleaning pass looks at.
constexpr int kCleanScan = 256;
// How many NVMe LRU blocks may be dropped to fit one write.
constexpr int kNvmeDropsPerWrite = 64;

uint64_t NowMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

void BlockStore::ReapNvme() {
  if (nvme_) nvme_->ReapCompletions();
  MaybeClean();
}

void BlockStore::DrainNvme() {
  if (nvme_) nvme_->Drain();
}

void BlockStore::MaybeClean() {
  if (!nvme_) return;
  const double used = static_cast<double>(host_->used_bytes());
  if (used <= options_.clean_above * static_cast<double>(host_->capacity_bytes())) return;
  for (auto& lru : host_lru_by_class_) {
    int scanned = 0;
    for (BlockEntry* e = lru->Back(); e && scanned < kCleanScan; e = lru->Newer(e), ++scanned) {
      if (nvme_writes_in_flight_ >= options_.max_cleaning_writes) return;
      if (e->on_nvme || e->demoting) continue;
      StartDemotion(e);  // a block that cannot go (too large, disk full) is skipped
    }
  }
}

Status BlockStore::SubmitNvmeWrite(BlockEntry* e, nvme::NvmeStore::Callback done) {
  nvme::BlockMeta meta{e->key, e->parent, e->ns_id, {e->tokens().begin(), e->tokens().end()},
                       NowMillis()};
  const std::span<const std::byte> payload(host_->At(e->host_slot.offset), e->bytes);
  for (int attempt = 0;; ++attempt) {
    Status s = nvme_->Write(meta, payload, done);
    if (s.ok()) {
      e->demoting = true;
      ++nvme_writes_in_flight_;  // every such write ends in OnDemotionDone
      return s;
    }
    if (s.code() == StatusCode::kAlreadyExists) {
      // A copy from before a restart, or one being written: NVMe has it.
      e->on_nvme = nvme_->Contains(e->key);
      return s;
    }
    // A full NVMe tier drops its own least recently used blocks to fit.
    if (!s.IsResourceExhausted() || attempt == kNvmeDropsPerWrite || !DropNvmeLru()) return s;
  }
}

bool BlockStore::StartDemotion(BlockEntry* e) {
  const Key128 key = e->key;
  Status s = SubmitNvmeWrite(e, [this, key](Status done) { OnDemotionDone(key, done); });
  if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
    spdlog::debug("demotion of {} not started: {}", ToHex(key), s.ToString());
  }
  return s.ok();
}

void BlockStore::OnDemotionDone(const Key128& key, Status s) {
  --nvme_writes_in_flight_;
  BlockEntry* e = index_.Find(key);
  if (!e) return;  // dropped while the write was in flight
  e->demoting = false;
  auto waiters = std::move(e->move_waiters);
  if (s.ok()) {
    e->on_nvme = true;
    counters_.nvme.bytes_in += e->bytes;
  } else if (!s.IsNotFound()) {
    spdlog::warn("NVMe write of block {}: {}", ToHex(key), s.ToString());
  }
  for (auto& w : waiters) w();
}

void BlockStore::WaitForDemotion(const Key128& key) {
  for (;;) {
    BlockEntry* e = index_.Find(key);
    if (!e || !e->demoting) return;
    pollfd pfd{nvme_->event_fd(), POLLIN, 0};
    ::poll(&pfd, 1, kPollMillis);
    nvme_->ReapCompletions();
  }
}

bool BlockStore::DropNvmeLru() {
  BlockEntry* victim = nvme_lru_.Back();
  if (!victim) return false;
  ++counters_.nvme.evictions;
  Drop(victim);
  return true;
}

bool BlockStore::StartPromotion(BlockEntry* e) {
  if (!nvme_ || !e->on_nvme || e->pins > 0) return false;
  const Key128 key = e->key;
  // Room for the copy first; making room may run completions, so look again.
  const uint32_t size_class = host_->SizeClassFor(e->bytes);
  Unlink(e);
  e->promoting = true;  // keeps the entry out of every list while room is made
  auto slot = host_->Allocate(e->bytes);
  while (!slot.ok() && slot.status().IsResourceExhausted() && MakeRoom(size_class)) {
    slot = host_->Allocate(e->bytes);
  }
  e = index_.Find(key);
  if (!e) {
    if (slot.ok()) host_->Free(*slot);
    return false;
  }
  if (!slot.ok()) {
    e->promoting = false;
    Relink(e);
    return false;
  }
  e->host_slot = *slot;
  const std::span<std::byte> dst(host_->At(slot->offset), e->bytes);
  Status s = nvme_->Read(key, dst, [this, key](Status done) { OnPromotionDone(key, done); });
  if (!s.ok()) {
    host_->Free(*slot);
    e->promoting = false;
    if (s.IsNotFound()) {
      e->on_nvme = false;
      Drop(e);
    } else {
      Relink(e);
    }
    return false;
  }
  return true;
}

void BlockStore::OnPromotionDone(const Key128& key, Status s) {
  BlockEntry* e = index_.Find(key);
  if (!e) return;
  e->promoting = false;
  auto waiters = std::move(e->move_waiters);
  if (s.ok()) {
    e->on_host = true;
    ++counters_.host_blocks;
    ++counters_.promotions;
    counters_.nvme.bytes_out += e->bytes;
    Relink(e);
  } else {
    host_->Free(e->host_slot);
    if (s.IsCorruption()) {
      // The NVMe tier already dropped the bad copy; the block is gone.
      spdlog::warn("block {} failed its checksum on NVMe and was dropped", ToHex(key));
      e->on_nvme = false;
      Drop(e);
    } else {
      spdlog::warn("NVMe read of block {}: {}", ToHex(key), s.ToString());
      Relink(e);
    }
  }
  for (auto& w : waiters) w();
}

void BlockStore::WhenOnHost(std::span<const Key128> keys, std::function<void()> ready) {
  auto pending = std::make_shared<size_t>(0);
  auto shared_ready = std::make_shared<std::function<void()>>(std::move(ready));
  // Entries are found by key each time: making room for one promotion may
  // move or drop another block of the same prefix.
  for (const Key128& key : keys) {
    BlockEntry* e = index_.Find(key);
    if (e && !e->on_host && !e->promoting) StartPromotion(e);
  }
  for (const Key128& key : keys) {
    BlockEntry* e = index_.Find(key);
    if (!e || !e->promoting) continue;
    ++*pending;
    e->move_waiters.push_back([pending, shared_ready] {
      if (--*pending == 0) (*shared_ready)();
    });
  }
  if (*pending == 0) (*shared_ready)();
}

void BlockStore::Flush(std::function<void(uint64_t, Status)> done) {
  struct FlushState {
    size_t pending = 1;  // one for this function, released at its end
    uint64_t written = 0;
    Status first_error;
    std::function<void(uint64_t, Status)> done;
  };
  auto state = std::make_shared<FlushState>();
  state->done = std::move(done);
  auto finish_one = [this, state](const Key128& key, Status s) {
    OnDemotionDone(key, s);
    if (s.ok()) ++state->written;
    // NotFound: the block was dropped meanwhile; nothing is left to make durable.
    if (!s.ok() && !s.IsNotFound() && state->first_error.ok()) state->first_error = s;
    if (--state->pending == 0) state->done(state->written, state->first_error);
  };
  if (nvme_) {
    // Keys first: starting a write may drop NVMe-only blocks from the index,
    // which must not change while it is walked.
    std::vector<Key128> dirty;
    index_.ForEach([&](BlockEntry* e) {
      if (e->state == BlockState::kReady && e->on_host && !e->on_nvme) dirty.push_back(e->key);
    });
    for (const Key128& k : dirty) {
      BlockEntry* e = index_.Find(k);
      if (!e || e->state != BlockState::kReady || !e->on_host || e->on_nvme) continue;
      if (e->demoting) {
        // A background write is already under way: wait for it too.
        ++state->pending;
        e->move_waiters.push_back([this, state, k] {
          BlockEntry* done = index_.Find(k);
          if (done && done->on_nvme) ++state->written;
          if (--state->pending == 0) state->done(state->written, state->first_error);
        });
        continue;
      }
      Status s = SubmitNvmeWrite(e, [finish_one, k](Status r) { finish_one(k, r); });
      if (s.ok()) {
        ++state->pending;  // released by finish_one
      } else if (s.code() != StatusCode::kAlreadyExists && state->first_error.ok()) {
        state->first_error = s;
      }
    }
  } else {
    state->first_error = Status::Unsupported("no NVMe tier: nothing can be flushed");
  }
  spdlog::debug("flush: {} NVMe writes started", state->pending - 1);
  if (--state->pending == 0) state->done(state->written, state->first_error);
}

}  // namespace tierkv
