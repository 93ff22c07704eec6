#include "daemon/block_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "base/check.h"
#include "daemon/loop_phase.h"

namespace tierkv {

struct BlockStore::ReserveJob {
  Key128 ns_id;
  uint32_t block_tokens = 0;
  uint64_t block_bytes = 0;
  const wire::BlockChain* chain = nullptr;
  std::span<const uint8_t> payload;  // inline payloads, or empty
  bool from_remote = false;          // the payloads were read from the remote tier
  size_t next = 0;                   // the first block not reserved yet
  Reserved out;
  ReserveDone done;
  // Copies of the request, made when the job must wait for room.
  wire::BlockChain owned_chain;
  std::vector<uint8_t> owned_payload;

  void OwnRequest() {
    owned_chain = *chain;
    chain = &owned_chain;
    owned_payload.assign(payload.begin(), payload.end());
    payload = owned_payload;
  }
};

struct BlockStore::PromotionJob {
  std::vector<Key128> keys;
  size_t next = 0;       // the first key not looked at yet
  size_t in_flight = 0;  // promotions started and not ended
  bool waited = false;   // the caller was told to expect `ready`
  std::function<void()> ready;

  bool finished() const { return next == keys.size() && in_flight == 0; }
};

BlockStore::BlockStore(HostTier* host, CleaningOptions cleaning)
    : host_(host), cleaning_(cleaning) {}

BlockStore::~BlockStore() {
  // GPU copy callbacks name the mirror: run them while it still exists.
  DrainGpu();
  // Lists do not own their entries; unlink everything before the index goes.
  index_.ForEach([this](BlockEntry* e) { Unlink(e); });
}

void BlockStore::AttachNvme(nvme::NvmeStore* nvme,
                            std::span<const nvme::BlockRecord> oldest_first) {
  BlockLifecycle* lifecycle = this;
  mover_ = std::make_unique<NvmeMover>(nvme, &index_, &host_, &counters_, &events_, lifecycle,
                                       cleaning_);
  for (const nvme::BlockRecord& r : oldest_first) mover_->Replay(r);
}

void BlockStore::AttachGpu(GpuTier* gpu) {
  BlockLifecycle* lifecycle = this;
  gpu_ = std::make_unique<GpuMirror>(gpu, &index_, &host_, &counters_, &events_, lifecycle);
}

void BlockStore::AttachRemote(remote::RemoteStore* remote, RemoteMoverOptions options) {
  remote_ = std::make_unique<RemoteMover>(remote, &index_, &host_, &counters_, options);
}

void BlockStore::Relink(BlockEntry* e) {
  const Residency& r = e->residency;
  if (!r.ready() || e->pins > 0 || r.host() == Residency::Host::kPromoting) return;
  if (r.on_gpu()) gpu_->Link(e);
  if (r.gpu() == Residency::Gpu::kFilling) return;  // the host copy is being read: it stays
  if (r.on_host()) {
    host_.Link(e);
  } else if (r.on_nvme()) {
    mover_->Link(e);
  }
}

void BlockStore::Unlink(BlockEntry* e) {
  if (e->GpuLruHook::linked()) gpu_->Unlink(e);
  if (!e->LruHook::linked()) return;
  if (e->residency.on_host()) {
    host_.Unlink(e);
  } else {
    mover_->Unlink(e);
  }
}

void BlockStore::Drop(BlockEntry* e) {
  TIERKV_CHECK(
      e->residency.ready() && e->pins == 0 && e->residency.host() != Residency::Host::kPromoting,
      "only a ready, unpinned block that is not being read into is dropped");
  Unlink(e);
  counters_.CountReady(e->ns_id, -1);
  // A GPU copy in flight reads the host slot freed below; its completion
  // finds no block and discards it (GpuMirror::OnFilled).
  if (gpu_) gpu_->Forget(e);
  if (e->residency.on_host()) {
    events_.Removed(*e, Medium::kCpu);
    host_.Free(e->host_slot);
    --counters_.host_blocks;
  }
  if (mover_) mover_->Forget(*e);
  ++counters_.dropped_blocks;
  index_.Erase(e);
}

std::vector<BlockEntry*> BlockStore::Match(const NamespaceInfo& ns, const wire::BlockChain& chain,
                                           uint32_t max_blocks, bool count_stats) {
  std::vector<BlockEntry*> matched;
  const size_t asked = std::min<size_t>(chain.keys.size(), max_blocks);
  index_.MatchPrefix(ns.id, ns.spec.block_tokens, chain, asked, &matched);
  LookupTally tally;
  tally.asked = asked;
  for (auto it = matched.rbegin(); it != matched.rend(); ++it) {
    BlockEntry* e = *it;
    tally.on_gpu += e->residency.on_gpu();
    tally.on_host += e->residency.on_host() && !e->residency.on_gpu();
    Relink(e);
  }
  tally.on_nvme = matched.size() - tally.on_gpu - tally.on_host;
  if (count_stats) counters_.CountLookup(ns.id, tally, gpu_ != nullptr);
  return matched;
}

RemoteRange BlockStore::RangeOf(const NamespaceInfo& ns, const wire::BlockChain& chain, size_t from,
                                size_t end) const {
  RemoteRange range;
  range.ns_id = ns.id;
  range.block_tokens = ns.spec.block_tokens;
  range.block_bytes = ns.spec.block_bytes;
  range.chain = &chain;
  range.from = from;
  range.to = std::min<size_t>({end, chain.keys.size(), from + remote_->options().max_read_blocks});
  return range;
}

bool BlockStore::ProbeRemote(const NamespaceInfo& ns, const wire::BlockChain& chain, size_t from,
                             size_t end, std::function<void(size_t)> done) {
  if (!remote_) return false;
  const RemoteRange range = RangeOf(ns, chain, from, end);
  if (range.from >= range.to) return false;
  remote_->Probe(range, [this, ns_id = ns.id, asked = range.to - range.from,
                         done = std::move(done)](size_t n) {
    counters_.CountRemoteLookup(ns_id, asked, n);
    done(n);
  });
  return true;
}

bool BlockStore::WhenFetched(const NamespaceInfo& ns, const wire::BlockChain& chain, size_t from,
                             size_t end, std::function<void()> ready) {
  if (!remote_) return false;
  const RemoteRange range = RangeOf(ns, chain, from, end);
  if (range.from >= range.to) return false;
  const Key128 head = chain.keys[range.from];
  auto [it, first] = fetches_.try_emplace(head);
  it->second.push_back(std::move(ready));
  if (!first) return true;  // joins the read in flight
  // The blocks asked, as a chain of their own: the store places it later.
  wire::BlockChain asked;
  asked.parent = range.from == 0 ? chain.parent : chain.keys[range.from - 1];
  asked.keys.assign(chain.keys.begin() + range.from, chain.keys.begin() + range.to);
  const auto tokens =
      std::span(chain.tokens)
          .subspan(range.from * range.block_tokens, (range.to - range.from) * range.block_tokens);
  asked.tokens.assign(tokens.begin(), tokens.end());
  const NamespaceInfo* ns_info = &ns;  // namespaces live as long as the daemon
  remote_->Fetch(range, [this, ns_info, asked = std::move(asked)](
                            size_t n, std::vector<uint8_t> payload) mutable {
    PlaceFetched(*ns_info, std::move(asked), n, std::move(payload));
  });
  return true;
}

void BlockStore::PlaceFetched(const NamespaceInfo& ns, wire::BlockChain chain, size_t n,
                              std::vector<uint8_t> payload) {
  const Key128 head = chain.keys.front();
  auto settle = [this, head](const Status& placed) {
    if (!placed.ok()) spdlog::debug("remote blocks not placed: {}", placed.ToString());
    auto it = fetches_.find(head);
    if (it == fetches_.end()) return;
    std::vector<std::function<void()>> waiters = std::move(it->second);
    fetches_.erase(it);
    for (auto& w : waiters) w();
  };
  if (n == 0) {
    settle(Status::Ok());
    return;
  }
  chain.keys.resize(n);
  chain.tokens.resize(n * ns.spec.block_tokens);
  auto placed = [settle](Result<Reserved> r) { settle(r.status()); };
  auto now = ReserveChain(ns, chain, payload, /*from_remote=*/true, placed);
  if (now) placed(std::move(*now));
}

void BlockStore::Pin(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) {
    if (e->pins++ > 0) continue;
    ++counters_.pinned_blocks;
    if (e->residency.on_gpu()) ++counters_.gpu_pinned_blocks;
    Unlink(e);
  }
}

void BlockStore::Unpin(std::span<BlockEntry* const> entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    BlockEntry* e = *it;
    if (--e->pins > 0) continue;
    --counters_.pinned_blocks;
    if (e->residency.on_gpu()) --counters_.gpu_pinned_blocks;
    Relink(e);
  }
}

void BlockStore::StartGpuFills(std::span<BlockEntry* const> entries) {
  if (gpu_) gpu_->StartFills(entries);
}

std::optional<Result<BlockStore::Reserved>> BlockStore::Reserve(
    const NamespaceInfo& ns, const wire::BlockChain& chain, std::span<const uint8_t> inline_payload,
    ReserveDone done) {
  return ReserveChain(ns, chain, inline_payload, /*from_remote=*/false, std::move(done));
}

std::optional<Result<BlockStore::Reserved>> BlockStore::ReserveChain(
    const NamespaceInfo& ns, const wire::BlockChain& chain, std::span<const uint8_t> inline_payload,
    bool from_remote, ReserveDone done) {
  if (Status s = BlockIndex::CheckChain(chain, ns.spec.block_tokens); !s.ok()) return s;
  // A chain starts at its namespace's root or continues a ready block of the
  // same namespace, so no client plants keys in another namespace's chains.
  if (chain.parent != ns.id) {
    const BlockEntry* parent = index_.Find(chain.parent);
    if (!parent || parent->ns_id != ns.id || !parent->residency.ready()) {
      return Status::InvalidArgument(
          "the chain's parent is neither this namespace's root nor a stored block of this "
          "namespace");
    }
  }
  // Refused before anything is evicted for it.
  uint64_t new_bytes = 0;
  for (const Key128& key : chain.keys) {
    if (!index_.Contains(key)) new_bytes += ns.spec.block_bytes;
  }
  if (const uint64_t capacity = host_.tier().capacity_bytes(); new_bytes > capacity) {
    return Status::ResourceExhausted("a reserve of " + std::to_string(new_bytes) +
                                     " bytes can never fit: the host tier holds " +
                                     std::to_string(capacity) + " bytes in all");
  }
  if (!inline_payload.empty() && inline_payload.size() != chain.keys.size() * ns.spec.block_bytes) {
    return Status::InvalidArgument("inline payload of " + std::to_string(inline_payload.size()) +
                                   " bytes for " + std::to_string(chain.keys.size()) +
                                   " blocks of " + std::to_string(ns.spec.block_bytes));
  }
  ReserveJob job;
  job.ns_id = ns.id;
  job.block_tokens = ns.spec.block_tokens;
  job.block_bytes = ns.spec.block_bytes;
  job.chain = &chain;
  job.payload = inline_payload;
  job.from_remote = from_remote;
  job.out.assign(chain.keys.size(), nullptr);
  // Behind a reserve that waits, a new one waits too: room goes in order.
  if (room_waiters_.empty()) {
    Result<bool> finished = ContinueReserve(job);
    if (!finished.ok()) return finished.status();
    if (*finished) return std::move(job.out);
  }
  auto waiting = std::make_shared<ReserveJob>(std::move(job));
  waiting->OwnRequest();
  waiting->done = std::move(done);
  room_waiters_.push_back([this, waiting] {
    Result<bool> finished = ContinueReserve(*waiting);
    if (finished.ok() && !*finished) return false;
    if (finished.ok()) {
      waiting->done(std::move(waiting->out));
    } else {
      waiting->done(finished.status());
    }
    return true;
  });
  return std::nullopt;
}

Result<bool> BlockStore::ContinueReserve(ReserveJob& job) {
  const wire::BlockChain& chain = *job.chain;
  for (; job.next < chain.keys.size(); ++job.next) {
    const size_t i = job.next;
    const Key128& key = chain.keys[i];
    if (index_.Contains(key)) continue;  // stored or being written: nothing to do
    Result<std::optional<TierSlot>> slot = AllocateHostSlot(job.block_bytes);
    if (slot.ok() && !slot->has_value()) return false;
    if (!slot.ok()) {
      std::vector<BlockEntry*> reserved;
      for (BlockEntry* e : job.out) {
        if (e) reserved.push_back(e);
      }
      Abort(reserved);
      return slot.status();
    }
    const Key128& parent = i == 0 ? chain.parent : chain.keys[i - 1];
    const auto tokens = std::span(chain.tokens).subspan(i * job.block_tokens, job.block_tokens);
    BlockEntry* e = index_.Insert(key, parent, job.ns_id, tokens, job.block_bytes);
    TIERKV_CHECK(e != nullptr, "making room never adds a block");
    e->host_slot = **slot;
    job.out[i] = e;
  }
  if (!job.payload.empty()) {
    std::vector<BlockEntry*> reserved;
    for (size_t i = 0; i < job.out.size(); ++i) {
      if (!job.out[i]) continue;
      host_.CopyIn(*job.out[i], job.payload.subspan(i * job.block_bytes, job.block_bytes));
      reserved.push_back(job.out[i]);
    }
    CommitBlocks(reserved, job.from_remote);
  }
  return true;
}

void BlockStore::Commit(std::span<BlockEntry* const> entries) {
  CommitBlocks(entries, /*from_remote=*/false);
}

void BlockStore::CommitBlocks(std::span<BlockEntry* const> entries, bool from_remote) {
  const bool write_through =
      remote_ && !from_remote && remote_->options().write == RemoteWritePolicy::kThrough;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    BlockEntry* e = *it;
    e->residency.Commit();
    ++counters_.host_blocks;
    counters_.CountReady(e->ns_id, +1);
    counters_.host.bytes_in += e->bytes;
    if (from_remote) {
      e->residency.AdoptRemoteCopy();
      ++counters_.remote_promotions;
    }
    Relink(e);
  }
  // First to last, so that a chain's blocks make one BlockStored event.
  if (events_.observer()) {
    for (BlockEntry* e : entries) events_.Added(*e, Medium::kCpu);
  }
  // First to last: the head of a chain is the first other nodes can use.
  if (write_through) {
    for (BlockEntry* e : entries) remote_->StartWrite(e);
  }
  if (mover_) mover_->Clean();
}

void BlockStore::Abort(std::span<BlockEntry* const> entries) {
  for (BlockEntry* e : entries) {
    TIERKV_CHECK(!e->residency.ready(), "only reserved blocks are aborted");
    host_.Free(e->host_slot);
    index_.Erase(e);
  }
}

Result<std::optional<TierSlot>> BlockStore::AllocateHostSlot(uint64_t bytes) {
  const uint32_t size_class = host_.SizeClassFor(bytes);
  for (;;) {
    Result<TierSlot> slot = host_.Allocate(bytes);
    if (slot.ok()) return std::optional<TierSlot>(*slot);
    if (!slot.status().IsResourceExhausted()) return slot.status();
    switch (MakeRoom(size_class)) {
      case Room::kMade:
        continue;
      case Room::kWaiting:
        return std::optional<TierSlot>();
      case Room::kNone:
        return Status::ResourceExhausted(
            "host tier is full: " + std::to_string(counters_.pinned_blocks) +
            " blocks pinned, the rest being written or moved; none evictable");
    }
  }
}

BlockStore::Room BlockStore::MakeRoom(uint32_t size_class) {
  const Room own = EvictOneFromHost(host_.Lru(size_class));
  if (own != Room::kNone) return own;
  // Nothing of this size can leave: empty slabs of other sizes until one is
  // free, least recently used blocks first within each class.
  bool waiting = false;
  for (uint32_t c = 0; c < host_.size_classes(); ++c) {
    for (;;) {
      if (host_.HasFreeSlab()) return Room::kMade;
      const Room r = EvictOneFromHost(host_.Lru(c));
      if (r == Room::kNone) break;
      if (r == Room::kWaiting) {
        waiting = true;
        break;
      }
    }
  }
  return waiting ? Room::kWaiting : Room::kNone;
}

BlockStore::Room BlockStore::EvictOneFromHost(LruList<BlockEntry>& lru) {
  BlockEntry* victim = lru.Back();
  if (!victim) return Room::kNone;
  if (mover_) {
    switch (mover_->PrepareToLeave(victim)) {
      case NvmeMover::Leave::kWaiting:
        return Room::kWaiting;
      case NvmeMover::Leave::kNow:
      case NvmeMover::Leave::kDrop:
        break;
    }
  }
  ++counters_.host.evictions;
  // Write on evict: the host copy is the last one in memory.
  if (remote_ && remote_->options().write == RemoteWritePolicy::kEvict) {
    remote_->StartWrite(victim);
  }
  if (victim->residency.clean()) {
    DropHostCopy(victim);
  } else {
    Drop(victim);
  }
  return Room::kMade;
}

void BlockStore::DropHostCopy(BlockEntry* e) {
  if (e->residency.on_gpu()) gpu_->DropCopy(e);  // a GPU copy never outlives the host copy
  Unlink(e);
  events_.Removed(*e, Medium::kCpu);
  host_.Free(e->host_slot);
  e->residency.DropHostCopy();
  --counters_.host_blocks;
  ++counters_.demotions;
  Relink(e);
}

bool BlockStore::WhenOnHost(std::span<const Key128> keys, std::function<void()> ready) {
  if (!mover_) return false;
  auto job = std::make_shared<PromotionJob>();
  job->keys.assign(keys.begin(), keys.end());
  job->ready = std::move(ready);
  if (room_waiters_.empty() && ContinuePromotions(job)) {
    if (job->finished()) return false;
    job->waited = true;  // the last promotion's completion calls ready
    return true;
  }
  job->waited = true;
  room_waiters_.push_back([this, job] { return ContinuePromotions(job); });
  return true;
}

bool BlockStore::ContinuePromotions(const std::shared_ptr<PromotionJob>& job) {
  auto settle = [job] {
    if (--job->in_flight == 0 && job->next == job->keys.size()) job->ready();
  };
  for (; job->next < job->keys.size(); ++job->next) {
    const Key128& key = job->keys[job->next];
    BlockEntry* e = index_.Find(key);
    if (!e) break;  // the prefix ends here
    if (e->residency.host() == Residency::Host::kPromoting) {
      ++job->in_flight;
      mover_->WhenSettled(key, settle);
      continue;
    }
    if (e->residency.host() != Residency::Host::kNone) continue;  // on the host already
    Result<std::optional<TierSlot>> slot = AllocateHostSlot(e->bytes);
    if (slot.ok() && !slot->has_value()) return false;
    // Making room may have dropped the block itself (a full NVMe tier drops
    // its LRU blocks to fit the writes that make room).
    e = index_.Find(key);
    if (!slot.ok() || !e) {
      if (slot.ok()) host_.Free(**slot);
      break;  // no room for it: the prefix the client gets ends here
    }
    if (!mover_->StartPromotion(e, **slot)) break;
    ++job->in_flight;
    mover_->WhenSettled(key, settle);
  }
  job->next = job->keys.size();
  if (job->waited && job->in_flight == 0) job->ready();
  return true;
}

void BlockStore::RetryRoomWaiters() {
  while (!room_waiters_.empty()) {
    std::function<bool()> waiter = std::move(room_waiters_.front());
    room_waiters_.pop_front();
    if (!waiter()) {
      room_waiters_.push_front(std::move(waiter));  // still waiting: it keeps its place
      return;
    }
  }
}

uint64_t BlockStore::Evict(const Key128* ns_id) {
  std::vector<BlockEntry*> victims;
  index_.ForEach([&](BlockEntry* e) {
    if (!e->residency.ready() || e->pins > 0) return;
    if (e->residency.host() == Residency::Host::kPromoting) return;  // ends soon; evict again
    if (!ns_id || e->ns_id == *ns_id) victims.push_back(e);
  });
  // Each tier counts the copies it lost (an NVMe-only block is no host eviction).
  for (BlockEntry* e : victims) {
    counters_.gpu.evictions += e->residency.on_gpu();
    counters_.host.evictions += e->residency.on_host();
    counters_.nvme.evictions += e->residency.on_nvme();
    Drop(e);
  }
  return victims.size();
}

std::optional<FlushResult> BlockStore::Flush(std::function<void(FlushResult)> done) {
  if (!mover_) return FlushResult{0, Status::Unsupported("no NVMe tier: nothing can be flushed")};
  return mover_->Flush(std::move(done));
}

void BlockStore::ReapNvme() {
  CheckNotInRequest("NVMe completions");
  if (!mover_) return;
  mover_->Reap();
  RetryRoomWaiters();
  mover_->Clean();
}

void BlockStore::DrainNvme() {
  CheckNotInRequest("NVMe completions");
  if (!mover_) return;
  // A waiter retried after the drain may start another write to wait for.
  do {
    mover_->Drain();
    RetryRoomWaiters();
  } while (!room_waiters_.empty() && mover_->writes_in_flight() > 0);
}

void BlockStore::ReapGpu() {
  CheckNotInRequest("GPU completions");
  if (gpu_) gpu_->Reap();
}

void BlockStore::DrainGpu() {
  CheckNotInRequest("GPU completions");
  if (gpu_) gpu_->Drain();
}

void BlockStore::ReapRemote() {
  CheckNotInRequest("remote completions");
  if (remote_) remote_->Reap();
}

void BlockStore::DrainRemote() {
  CheckNotInRequest("remote completions");
  if (remote_) remote_->Drain();
}

}  // namespace tierkv
