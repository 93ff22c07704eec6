#include "tiers/nvme/block_index.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <system_error>
#include <vector>

namespace tierkv::nvme {
namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = "nvme index " + std::string(what) + ": " + s.ToString();
  if (s.IsNoSpace()) return Status::ResourceExhausted(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  return Status::IOError(msg);
}

rocksdb::Options DbOptions(const BlockIndexOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.write_buffer_size = options.write_buffer_bytes;
  db_options.max_write_buffer_number = 2;
  db_options.compression = rocksdb::kNoCompression;
  // Buffered IO for flushes: direct-IO flushes of this workload crawl.
  db_options.use_direct_io_for_flush_and_compaction = false;
  db_options.use_direct_reads = false;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 2;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return db_options;
}

}  // namespace

BlockIndex::BlockIndex(std::unique_ptr<rocksdb::DB> db, const BlockIndexOptions& options)
    : db_(std::move(db)), options_(options) {}

BlockIndex::~BlockIndex() = default;

Result<std::unique_ptr<BlockIndex>> BlockIndex::Open(const std::string& dir,
                                                     const BlockIndexOptions& options) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(DbOptions(options), dir, &raw);
  // With create_if_missing, a missing file is one the database names: damage.
  if (s.IsPathNotFound()) s = rocksdb::Status::Corruption(s.ToString());
  if (!s.ok()) return FromRocks(s, "open " + dir);
  return std::unique_ptr<BlockIndex>(new BlockIndex(std::unique_ptr<rocksdb::DB>(raw), options));
}

Status BlockIndex::Repair(const std::string& dir, const std::string& kept_aside,
                          const BlockIndexOptions& options) {
  std::error_code ec;
  std::filesystem::copy(dir, kept_aside, std::filesystem::copy_options::recursive, ec);
  if (ec) {
    return Status::FromErrno(ec.value(), "nvme index: keep a copy of " + dir + " in " + kept_aside);
  }
  const rocksdb::Options db_options = DbOptions(options);
  const rocksdb::Status repaired = rocksdb::RepairDB(dir, db_options);
  if (repaired.ok()) return Status::Ok();
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::FromErrno(ec.value(), "nvme index: remove " + dir);
  return Status::Corruption("nvme index " + dir + " could not be repaired (" + repaired.ToString() +
                            "): it starts empty");
}

Status BlockIndex::Put(std::span<const BlockRecord> records) {
  rocksdb::WriteBatch batch;
  for (const BlockRecord& r : records) {
    batch.Put(EncodeIndexKey(r.key), EncodeRecordValue(r));
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "put");
}

Result<BlockRecord> BlockIndex::Get(const Key128& key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), EncodeIndexKey(key), &value);
  if (s.IsNotFound()) return Status::NotFound("nvme index: no record for " + ToHex(key));
  TIERKV_RETURN_IF_ERROR(FromRocks(s, "get"));
  BlockRecord record;
  record.key = key;
  TIERKV_RETURN_IF_ERROR(DecodeRecordValue(value, &record));
  return record;
}

Status BlockIndex::Delete(std::span<const Key128> keys) {
  rocksdb::WriteBatch batch;
  for (const Key128& k : keys) batch.Delete(EncodeIndexKey(k));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "delete");
}

Status BlockIndex::Scan(const std::function<void(BlockRecord&&)>& visit,
                        const std::function<void(uint64_t)>& progress, uint64_t progress_every,
                        IndexScanStats* stats) {
  *stats = IndexScanStats{};
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = size_t{2} << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  std::vector<std::string> malformed;
  const uint64_t every = progress_every == 0 ? 1 : progress_every;
  uint64_t seen = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    BlockRecord record;
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    if (DecodeIndexKey(key, &record.key) && DecodeRecordValue(value, &record).ok()) {
      ++stats->records;
      visit(std::move(record));
    } else {
      malformed.emplace_back(key);
    }
    if (++seen % every == 0 && progress) progress(seen);
  }
  TIERKV_RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
  if (progress && seen % every != 0) progress(seen);
  stats->malformed = malformed.size();
  if (!malformed.empty()) {
    rocksdb::WriteBatch batch;
    for (const std::string& k : malformed) batch.Delete(k);
    TIERKV_RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "delete"));
  }
  return Status::Ok();
}

}  // namespace tierkv::nvme
