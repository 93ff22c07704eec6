#include "tiers/nvme/nvme_store.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <utility>

namespace tierkv::nvme {
namespace {

// Prefixes `status`'s message with `context`, keeping its code.
Status WithContext(const Status& status, const std::string& context) {
  return Status(status.code(), context + ": " + std::string(status.message()));
}

}  // namespace

NvmeStore::NvmeStore(const NvmeStoreOptions& options, std::unique_ptr<SlabSet> slabs,
                     std::unique_ptr<BlockIndex> index, std::unique_ptr<IoEngine> engine)
    : options_(options),
      slabs_(std::move(slabs)),
      index_(std::move(index)),
      engine_(std::move(engine)) {}

NvmeStore::~NvmeStore() = default;

Result<std::unique_ptr<NvmeStore>> NvmeStore::Open(const std::string& dir,
                                                   const NvmeStoreOptions& options,
                                                   const LoadCallbacks& load) {
  UringEngineOptions engine_options;
  engine_options.queue_depth = options.queue_depth;
  engine_options.max_io_bytes = RoundUpToIo(options.max_block_bytes);
  engine_options.durability = options.durability;
  engine_options.direct_aligned_buffers = options.direct_aligned_buffers;
  TIERKV_ASSIGN_OR_RETURN(std::unique_ptr<UringEngine> engine, UringEngine::Create(engine_options));
  return Open(dir, options, load, std::move(engine));
}

Result<std::unique_ptr<NvmeStore>> NvmeStore::Open(const std::string& dir,
                                                   const NvmeStoreOptions& options,
                                                   const LoadCallbacks& load,
                                                   std::unique_ptr<IoEngine> engine) {
  if (options.capacity_bytes == 0 || options.max_block_bytes == 0) {
    return Status::InvalidArgument("nvme tier: capacity_bytes and max_block_bytes must be > 0");
  }
  if (engine == nullptr || engine->max_io_bytes() < RoundUpToIo(options.max_block_bytes)) {
    return Status::InvalidArgument("nvme tier: IO engine cannot carry max_block_bytes");
  }
  FileSystem* fs = options.file_system != nullptr ? options.file_system : DefaultFileSystem();
  TIERKV_RETURN_IF_ERROR(fs->CreateDirIfMissing(dir));
  SlabOptions slab_options{options.capacity_bytes, options.slab_bytes, options.disk_full_retry};
  TIERKV_ASSIGN_OR_RETURN(std::unique_ptr<SlabSet> slabs,
                          SlabSet::Open(fs, dir + "/slabs", slab_options));
  BlockIndexOptions index_options;
  index_options.sync_writes = options.sync_index;
  TIERKV_ASSIGN_OR_RETURN(std::unique_ptr<BlockIndex> index,
                          BlockIndex::Open(dir + "/index", index_options));
  std::unique_ptr<NvmeStore> store(
      new NvmeStore(options, std::move(slabs), std::move(index), std::move(engine)));
  TIERKV_RETURN_IF_ERROR(store->Load(load));
  return store;
}

Status NvmeStore::RepairIndex(const std::string& dir, const NvmeStoreOptions& options,
                              std::string* kept_aside) {
  const std::string index = dir + "/index";
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string stem =
      index + ".damaged-" +
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  std::string aside = stem;
  for (int n = 1; std::filesystem::exists(aside); ++n) aside = stem + "-" + std::to_string(n);
  BlockIndexOptions index_options;
  index_options.sync_writes = options.sync_index;
  *kept_aside = aside;
  return BlockIndex::Repair(index, aside, index_options);
}

Status NvmeStore::Load(const LoadCallbacks& load) {
  std::vector<Key128> dropped;
  auto visit = [&](BlockRecord&& record) {
    // Claim fails for a slot outside every slab file or claimed by an earlier
    // record; either way the record cannot be trusted with the slot.
    if (Status s = slabs_->Claim(record.slot); !s.ok()) {
      dropped.push_back(record.key);
      return;
    }
    blocks_.emplace(record.key, Entry{record.slot, record.length, record.checksum});
    if (load.visit) load.visit(record);
  };
  IndexScanStats scan;
  TIERKV_RETURN_IF_ERROR(index_->Scan(visit, load.progress, load.progress_every, &scan));
  if (!dropped.empty()) TIERKV_RETURN_IF_ERROR(index_->Delete(dropped));
  counters_.loaded_blocks = blocks_.size();
  counters_.dropped_at_load = dropped.size() + scan.malformed;
  if (counters_.dropped_at_load > 0) {
    spdlog::warn(
        "nvme: dropped {} index records at load ({} malformed, {} pointing at no slot "
        "or a slot already claimed)",
        counters_.dropped_at_load, scan.malformed, dropped.size());
  }
  return Status::Ok();
}

Status NvmeStore::Write(const BlockMeta& meta, std::span<const std::byte> payload, Callback done) {
  if (payload.empty() || payload.size() > options_.max_block_bytes) {
    return Status::InvalidArgument("nvme tier: block of " + std::to_string(payload.size()) +
                                   " bytes (limit " + std::to_string(options_.max_block_bytes) +
                                   ")");
  }
  if (blocks_.contains(meta.key) || pending_.contains(meta.key)) {
    return Status::AlreadyExists("nvme tier: block " + ToHex(meta.key) + " already stored");
  }
  Result<SlotId> allocated = slabs_->Allocate(payload.size());
  if (!allocated.ok()) {
    if (slabs_->disk_full()) ++counters_.write_errors;  // the disk, not the cap, refused it
    return allocated.status();
  }
  const SlotId slot = *allocated;
  Result<IoTarget> target = slabs_->Target(slot);
  if (!target.ok()) {
    slabs_->Free(slot);
    return target.status();
  }
  PendingWrite& pw = pending_[meta.key];
  pw.record = BlockRecord{meta.key,
                          slot,
                          uint32_t(payload.size()),
                          PayloadChecksum(payload),
                          meta.parent,
                          meta.namespace_id,
                          meta.last_access,
                          meta.tokens};
  pw.fd = target->fd;
  pw.done = std::move(done);
  const Key128 key = meta.key;
  engine_->SubmitWrite(*target, payload.data(), payload.size(),
                       [this, key](Status s) { OnWriteDone(key, std::move(s)); });
  return Status::Ok();
}

void NvmeStore::OnWriteDone(const Key128& key, Status status) {
  auto it = pending_.find(key);
  PendingWrite& pw = it->second;
  if (!status.ok()) {
    ++counters_.write_errors;
    FailPending(key, WithContext(status, "nvme write of block " + ToHex(key)));
  } else if (pw.removed) {
    FailPending(
        key, Status::NotFound("nvme tier: block " + ToHex(key) + " removed while being written"));
  } else if (options_.durability == WriteDurability::kGroupSync) {
    unsynced_.push_back(key);
    unsynced_fds_.insert(pw.fd);
  } else {
    // Indexed in CommitWrites(), after this reap, together with its peers.
    written_.push_back(key);
  }
}

void NvmeStore::FailPending(const Key128& key, const Status& status) {
  auto it = pending_.find(key);
  // No read can target a slot whose write is pending, so it is free at once.
  slabs_->Free(it->second.record.slot);
  Callback done = std::move(it->second.done);
  pending_.erase(it);
  done(status);
}

void NvmeStore::StartGroupSync() {
  if (syncs_in_flight_ > 0 || unsynced_.empty()) return;
  syncing_ = std::move(unsynced_);
  unsynced_.clear();
  std::unordered_set<int> fds = std::move(unsynced_fds_);
  unsynced_fds_.clear();
  sync_status_ = Status::Ok();
  syncs_in_flight_ = fds.size();
  for (int fd : fds) {
    engine_->SubmitSync(fd, [this](Status s) { OnGroupSyncDone(std::move(s)); });
  }
}

void NvmeStore::OnGroupSyncDone(Status status) {
  if (!status.ok() && sync_status_.ok()) sync_status_ = std::move(status);
  if (--syncs_in_flight_ > 0) return;
  std::vector<Key128> keys = std::move(syncing_);
  syncing_.clear();
  for (const Key128& key : keys) {
    if (sync_status_.ok()) {
      written_.push_back(key);
    } else {
      ++counters_.write_errors;
      FailPending(key, WithContext(sync_status_, "nvme write of block " + ToHex(key)));
    }
  }
}

void NvmeStore::CommitWrites() {
  if (written_.empty()) return;
  std::vector<Key128> keys = std::move(written_);
  written_.clear();
  std::vector<std::pair<Callback, Status>> calls;
  std::vector<BlockRecord> records;
  std::vector<Key128> live;
  for (const Key128& key : keys) {
    auto it = pending_.find(key);
    if (it->second.removed) {
      slabs_->Free(it->second.record.slot);
      calls.emplace_back(
          std::move(it->second.done),
          Status::NotFound("nvme tier: block " + ToHex(key) + " removed while being written"));
      pending_.erase(it);
      continue;
    }
    records.push_back(it->second.record);
    live.push_back(key);
  }
  Status s = records.empty() ? Status::Ok() : index_->Put(records);
  for (size_t i = 0; i < live.size(); ++i) {
    auto it = pending_.find(live[i]);
    const BlockRecord& r = it->second.record;
    if (s.ok()) {
      blocks_.emplace(r.key, Entry{r.slot, r.length, r.checksum});
      ++counters_.writes;
      counters_.bytes_written += r.length;
      write_rate_.Add(r.length);
      calls.emplace_back(std::move(it->second.done), Status::Ok());
    } else {
      slabs_->Free(r.slot);
      ++counters_.write_errors;
      calls.emplace_back(std::move(it->second.done),
                         WithContext(s, "nvme write of block " + ToHex(r.key)));
    }
    pending_.erase(it);
  }
  for (auto& [done, status] : calls) done(std::move(status));
}

Status NvmeStore::Read(const Key128& key, std::span<std::byte> dst, Callback done) {
  auto it = blocks_.find(key);
  if (it == blocks_.end()) {
    return Status::NotFound("nvme tier: block " + ToHex(key) + " not stored");
  }
  const Entry entry = it->second;
  if (dst.size() < entry.length) {
    return Status::InvalidArgument("nvme tier: read buffer of " + std::to_string(dst.size()) +
                                   " bytes for a block of " + std::to_string(entry.length));
  }
  TIERKV_ASSIGN_OR_RETURN(IoTarget target, slabs_->Target(entry.slot));
  ++reads_in_flight_[entry.slot];
  engine_->SubmitRead(target, dst.data(), entry.length,
                      [this, key, entry, dst, done = std::move(done)](Status s) mutable {
                        OnReadDone(key, entry, dst, std::move(done), std::move(s));
                      });
  return Status::Ok();
}

void NvmeStore::OnReadDone(const Key128& key, const Entry& entry, std::span<std::byte> dst,
                           Callback done, Status status) {
  auto reads = reads_in_flight_.find(entry.slot);
  if (--reads->second == 0) {
    reads_in_flight_.erase(reads);
    if (free_after_reads_.erase(entry.slot) > 0) slabs_->Free(entry.slot);
  }
  if (!status.ok()) {
    ++counters_.read_errors;
    done(WithContext(status, "nvme read of block " + ToHex(key)));
    return;
  }
  if (PayloadChecksum(dst.first(entry.length)) != entry.checksum) {
    ++counters_.corrupt_dropped;
    DropCorrupt(key, entry.slot);
    done(Status::Corruption("nvme tier: block " + ToHex(key) + " failed its checksum; dropped"));
    return;
  }
  ++counters_.reads;
  counters_.bytes_read += entry.length;
  read_rate_.Add(entry.length);
  done(Status::Ok());
}

void NvmeStore::DropCorrupt(const Key128& key, const SlotId& slot) {
  auto it = blocks_.find(key);
  // The block may have been removed, or removed and written again elsewhere,
  // while the read was in flight: only the copy that was read is dropped.
  if (it == blocks_.end() || !(it->second.slot == slot)) return;
  const Key128 keys[] = {key};
  if (Status s = index_->Delete(keys); !s.ok()) {
    // Its record may come back at restart; the checksum will catch it again.
    spdlog::warn("nvme: could not delete the record of corrupt block {}: {}", ToHex(key),
                 s.ToString());
  }
  spdlog::warn("nvme: block {} failed its checksum; dropped", ToHex(key));
  blocks_.erase(it);
  ReleaseSlot(slot);
}

void NvmeStore::ReleaseSlot(const SlotId& slot) {
  if (reads_in_flight_.contains(slot)) {
    free_after_reads_.insert(slot);
  } else {
    slabs_->Free(slot);
  }
}

Status NvmeStore::Remove(const Key128& key) {
  if (auto p = pending_.find(key); p != pending_.end()) {
    p->second.removed = true;
    return Status::Ok();
  }
  auto it = blocks_.find(key);
  if (it == blocks_.end()) {
    return Status::NotFound("nvme tier: block " + ToHex(key) + " not stored");
  }
  // The record goes before the slot is freed, so no crash can leave a record
  // pointing at a slot that holds another block.
  const Key128 keys[] = {key};
  TIERKV_RETURN_IF_ERROR(index_->Delete(keys));
  const SlotId slot = it->second.slot;
  blocks_.erase(it);
  ReleaseSlot(slot);
  return Status::Ok();
}

Result<uint32_t> NvmeStore::Length(const Key128& key) const {
  auto it = blocks_.find(key);
  if (it == blocks_.end()) {
    return Status::NotFound("nvme tier: block " + ToHex(key) + " not stored");
  }
  return it->second.length;
}

size_t NvmeStore::ReapCompletions() {
  size_t n = engine_->ReapCompletions();
  StartGroupSync();
  CommitWrites();
  return n;
}

void NvmeStore::Drain() {
  StartGroupSync();
  while (engine_->outstanding() > 0) {
    engine_->WaitAndReap();
    StartGroupSync();
    CommitWrites();
  }
  CommitWrites();
}

NvmeStats NvmeStore::Stats() const {
  NvmeStats s = counters_;
  s.capacity_bytes = slabs_->capacity_bytes();
  s.file_bytes = slabs_->file_bytes();
  s.used_bytes = slabs_->used_bytes();
  s.blocks = blocks_.size();
  s.queue_depth = engine_->in_flight();
  s.queued = engine_->outstanding() - engine_->in_flight();
  s.read_bytes_per_sec = read_rate_.BytesPerSecond();
  s.write_bytes_per_sec = write_rate_.BytesPerSecond();
  return s;
}

namespace {

Status AwaitOne(NvmeStore& store, const std::optional<Status>& result) {
  store.Drain();
  return result.has_value() ? *result : Status::Internal("nvme tier: request lost");
}

}  // namespace

Status WriteBlocking(NvmeStore& store, const BlockMeta& meta, std::span<const std::byte> payload) {
  std::optional<Status> result;
  TIERKV_RETURN_IF_ERROR(
      store.Write(meta, payload, [&result](Status s) { result = std::move(s); }));
  return AwaitOne(store, result);
}

Status ReadBlocking(NvmeStore& store, const Key128& key, std::span<std::byte> dst) {
  std::optional<Status> result;
  TIERKV_RETURN_IF_ERROR(store.Read(key, dst, [&result](Status s) { result = std::move(s); }));
  return AwaitOne(store, result);
}

}  // namespace tierkv::nvme
