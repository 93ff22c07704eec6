// Fixed-size records (the index's entries, each with its tokens after it)
// carved from large chunks, with no per-record header and no rounding beyond
// 8 bytes: a general-purpose allocator spends 8 to 24 bytes on each of the
// hundred thousands of small records an index holds.
//
// A freed record goes on a free list and is handed out again before the next
// unused one. Chunks are kept until the pool is destroyed: memory an index
// once needed stays reserved for it, as a heap would keep it.
//
// Under AddressSanitizer a freed record is poisoned (all but the free-list
// link in its first 8 bytes), so a use after free is still reported.
//
// Thread safety: none.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace tierkv {

class RecordPool {
 public:
  static constexpr size_t kAlignment = 8;
  static constexpr size_t kChunkBytes = 256 * 1024;

  // `record_bytes` is rounded up to kAlignment.
  explicit RecordPool(size_t record_bytes);
  ~RecordPool();
  RecordPool(const RecordPool&) = delete;
  RecordPool& operator=(const RecordPool&) = delete;

  size_t record_bytes() const { return record_bytes_; }
  size_t live_records() const { return live_; }

  // Uninitialized memory for one record, aligned to kAlignment.
  void* Allocate();
  // Returns a record from Allocate (its object already destroyed).
  void Free(void* record);

 private:
  struct FreeRecord {
    FreeRecord* next;
  };

  size_t record_bytes_;
  size_t records_per_chunk_;
  std::vector<std::unique_ptr<std::byte[]>> chunks_;
  size_t used_in_last_chunk_ = 0;
  FreeRecord* free_list_ = nullptr;
  size_t live_ = 0;
};

}  // namespace tierkv
