// SlabSet: the slab files of the NVMe tier and which of their slots hold blocks.
//
// A block of B bytes lives in one slot of its size class, slot_bytes =
// RoundUpToIo(B). Each class owns slab files "slab-<slot_bytes>-<n>.dat" in the
// data directory, each preallocated (fallocate) to hold slots_per_file slots,
// so payload writes never extend a file nor fail for lack of space. Files are
// created on demand while their total size stays within the capacity; a class
// that needs a file when the capacity is used up may take over the space of a
// completely empty file of another class, and otherwise its allocation fails
// with ResourceExhausted. Freed slots are reused before new space, lowest file
// and lowest slot first.
//
// A disk that cannot take a new file (ENOSPC from fallocate) leaves the tier
// with the files it has: the rest of the capacity is unusable, and for
// disk_full_retry no new file is tried, so an allocation that needs one fails
// at once (ResourceExhausted naming the disk) instead of trying a slab-sized
// fallocate for every block. The first failure is logged, at most once per
// disk_full_retry.
//
// Which slots are used is kept in memory only: at start-up the owner claims
// the slots its persistent index names (Claim) and everything else is free.
//
// Thread safety: not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tiers/nvme/file_system.h"
#include "tiers/nvme/io_engine.h"

namespace tierkv::nvme {

// Names one slot: its size class, its file within the class, its index in the file.
struct SlotId {
  uint32_t slot_bytes = 0;
  uint32_t file = 0;
  uint32_t index = 0;
  friend bool operator==(const SlotId&, const SlotId&) = default;
};

struct SlabOptions {
  // The most bytes all slab files together may take. Required.
  uint64_t capacity_bytes = 0;
  // Target size of one slab file; a file holds max(1, slab_bytes / slot_bytes)
  // slots. Default 256 MiB. Fixed when a file is created.
  uint64_t slab_bytes = uint64_t{256} << 20;
  // After the disk refused space for a new slab file, how long no new file is
  // tried. Default 10 s.
  std::chrono::milliseconds disk_full_retry{10000};
};

class SlabSet {
 public:
  // Opens (creating `dir` if needed) every slab file found there. Files of
  // classes or sizes this build does not understand are left alone.
  static Result<std::unique_ptr<SlabSet>> Open(FileSystem* fs, const std::string& dir,
                                               const SlabOptions& options);

  // Takes a free slot for a block of `block_bytes` bytes (1..4 GiB), creating a
  // slab file if needed. ResourceExhausted when the capacity or the disk is full.
  Result<SlotId> Allocate(uint64_t block_bytes);
  // Marks `slot` used, for a slot named by the persistent index at start-up.
  // InvalidArgument when the slot lies outside every slab file, AlreadyExists
  // when it is used already.
  Status Claim(const SlotId& slot);
  // Returns a used slot to its class. Freeing a free slot is a no-op.
  void Free(const SlotId& slot);
  // Where to read or write `slot`. InvalidArgument if it names no slot.
  Result<IoTarget> Target(const SlotId& slot) const;

  uint64_t capacity_bytes() const { return options_.capacity_bytes; }
  // Bytes of all slab files (reserved on disk).
  uint64_t file_bytes() const { return file_bytes_; }
  // Bytes of the used slots.
  uint64_t used_bytes() const { return used_bytes_; }
  // True while the disk refused a new slab file less than disk_full_retry ago.
  bool disk_full() const;
  uint64_t used_slots() const { return used_slots_; }

 private:
  struct File {
    UniqueFd fd;
    uint64_t bytes = 0;  // the file's size on disk
    uint32_t slots = 0;
    uint32_t used = 0;
    uint32_t first_free_word = 0;  // no free slot lies below this bitmap word
    std::vector<uint64_t> bitmap;  // bit set = slot used
  };
  struct SizeClass {
    uint32_t slot_bytes = 0;
    std::map<uint32_t, File> files;
    std::set<uint32_t> files_with_room;
  };

  SlabSet(FileSystem* fs, std::string dir, const SlabOptions& options);
  Status Scan();
  Status AddFile(SizeClass& cls, uint32_t index);
  // ResourceExhausted for an allocation that needs a new file while disk_full().
  Status DiskFullError(uint32_t slot_bytes) const;
  // Deletes one empty slab file of a class other than `except`, to give its
  // space to `except`. Returns false if there is none.
  bool ReclaimEmptyFile(uint32_t except);
  std::string FilePath(uint32_t slot_bytes, uint32_t index) const;
  uint32_t SlotsPerFile(uint32_t slot_bytes) const;
  File* FindFile(const SlotId& slot);
  const File* FindFile(const SlotId& slot) const;
  void MarkUsed(SizeClass& cls, uint32_t file_index, File& file, uint32_t slot);

  FileSystem* fs_;
  std::string dir_;
  SlabOptions options_;
  std::map<uint32_t, SizeClass> classes_;  // by slot_bytes
  // When the disk last refused a new file (unset: it never did, or a file was
  // made since).
  std::optional<std::chrono::steady_clock::time_point> disk_full_at_;
  uint64_t file_bytes_ = 0;
  uint64_t used_bytes_ = 0;
  uint64_t used_slots_ = 0;
};

}  // namespace tierkv::nvme
