// BlockIndex: the NVMe tier's persistent index, a RocksDB database mapping
// block keys to BlockRecords.
//
// Records are tiny (under 200 bytes), so the database is tuned to stay off the
// payload's path: WAL on, buffered (not direct) flushes and compactions, a
// small memtable, no compression. Each call below is one atomic WriteBatch.
//
// Durability: a record written here survives a crash of this process as soon
// as the call returns (it is in the WAL, in the OS's page cache). With
// `sync_writes` the WAL is also fsynced before returning, so it survives power
// loss too, at the cost of one fsync per call (batch records to share it).
//
// Thread safety: safe to call from several threads (RocksDB is), but the
// NvmeStore calls it from one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "tiers/nvme/index_record.h"

namespace rocksdb {
class DB;
}

namespace tierkv::nvme {

struct BlockIndexOptions {
  // fsync the WAL on every write call. Default false (see the class comment).
  bool sync_writes = false;
  // Memtable size. Default 4 MiB.
  size_t write_buffer_bytes = size_t{4} << 20;
};

struct IndexScanStats {
  uint64_t records = 0;    // well-formed records handed to the visitor
  uint64_t malformed = 0;  // undecodable entries, deleted from the database
};

class BlockIndex {
 public:
  // Opens or creates the database in `dir`. A database that is damaged (a
  // flipped byte in a table or the MANIFEST, a garbled CURRENT, a file it
  // names missing) is Corruption, and so is damage that Scan finds.
  static Result<std::unique_ptr<BlockIndex>> Open(const std::string& dir,
                                                  const BlockIndexOptions& options);
  // For a damaged database in `dir` (not open): copies it whole to
  // `kept_aside` (which must not exist), then repairs it in place with
  // RocksDB's RepairDB, which keeps every record it can still read. When
  // even that fails the database is replaced by an empty one: Corruption
  // says so, and the damaged copy is still in `kept_aside`.
  static Status Repair(const std::string& dir, const std::string& kept_aside,
                       const BlockIndexOptions& options);
  ~BlockIndex();

  Status Put(std::span<const BlockRecord> records);
  // NotFound if `key` has no record, Corruption if its record is malformed.
  Result<BlockRecord> Get(const Key128& key);
  Status Delete(std::span<const Key128> keys);

  // Calls `visit` with every well-formed record, in key order, and `progress`
  // (if set) with the number of entries read so far every `progress_every`
  // entries. Malformed entries are deleted and counted. Stops early with the
  // first error of the database.
  Status Scan(const std::function<void(BlockRecord&&)>& visit,
              const std::function<void(uint64_t)>& progress, uint64_t progress_every,
              IndexScanStats* stats);

 private:
  BlockIndex(std::unique_ptr<rocksdb::DB> db, const BlockIndexOptions& options);

  std::unique_ptr<rocksdb::DB> db_;
  BlockIndexOptions options_;
};

}  // namespace tierkv::nvme
