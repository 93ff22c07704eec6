// Power loss for NVMe tier tests, in the shape of LevelDB's
// db/fault_injection_test.cc and RocksDB's FaultInjectionTestFS: the store
// runs on a PowerLossIoEngine and a PowerLossFileSystem that pass every call
// through and remember what has not been made durable yet. PowerLoss::Crash()
// then does to the files what losing power would: every payload write that no
// completed sync covers is thrown away (its bytes put back as they were
// before it) or torn (a random half of its pages put back), and every slab
// file created since its directory's last sync is removed. The test then
// reopens the store on the plain engine and checks what it finds.
//
// What counts as durable:
//  - a payload write, once a sync of its file *submitted after the write's
//    completion was reaped* has completed with OK (IoEngine::SubmitSync or
//    FileSystem::DataSync): fdatasync covers the writes completed before it;
//  - a created file, once FileSystem::SyncDir of its directory returned OK.
// Unlinks are taken as durable at once (a removed empty slab file that came
// back would hold no indexed block).
//
// Not simulated: the RocksDB index, which writes its own files. Crash() keeps
// every index write the store made, which is what a power loss leaves with
// NvmeStoreOptions::sync_index (each index write fsynced) and, for testing
// the order of payload and index, the hardest case: a record whose payload
// was lost survives. A sync that is a no-op below the IoEngine (the kernel's
// fdatasync itself) is not visible here either.
//
// Usage: make a PowerLoss, pass engine() to NvmeStore::Open and
// file_system() in NvmeStoreOptions, run the store, destroy it (its
// destructor waits for the kernel without running callbacks: nothing after
// the crash point is acknowledged), then Crash().
//
// Thread safety: one thread, like the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tiers/nvme/file_system.h"
#include "tiers/nvme/io_engine.h"

namespace tierkv::nvme::testing {

class PowerLossIoEngine;
class PowerLossFileSystem;

enum class LostWrites {
  kDropped,  // none of a write's pages reached the disk
  kTorn,     // a random subset of its pages did
};

class PowerLoss {
 public:
  // Wraps `target` (not owned; must outlive this) for the file system calls.
  explicit PowerLoss(FileSystem* target = DefaultFileSystem());
  PowerLoss(const PowerLoss&) = delete;
  PowerLoss& operator=(const PowerLoss&) = delete;
  ~PowerLoss();

  // A new engine over `target` that records into this; hand it to the store.
  // `this` must outlive it.
  std::unique_ptr<IoEngine> WrapEngine(std::unique_ptr<IoEngine> target);
  FileSystem* file_system();

  // While held, syncs submitted to the engine wait here and do not reach
  // the target; ReleaseSyncs() submits them.
  // Applies to the engine WrapEngine() made last, while it lives.
  void HoldSyncs() { hold_syncs_ = true; }
  void ReleaseSyncs();
  size_t held_syncs() const;

  // Engine syncs submitted so far (held ones included).
  uint64_t syncs_submitted() const { return syncs_submitted_; }
  // Payload writes not yet durable.
  size_t unsynced_writes() const;

  // Applies the loss to the files (see the file comment). Call it once, after
  // the store is destroyed. `seed` chooses which pages of a torn write survive.
  void Crash(LostWrites mode, uint64_t seed = 1);

 private:
  friend class PowerLossIoEngine;
  friend class PowerLossFileSystem;

  struct Write {
    std::string path;
    uint64_t offset = 0;
    std::vector<std::byte> before;  // the bytes the write covers, as they were
    bool completed = false;
  };
  // Remembers a write about to be submitted (and the bytes it will cover).
  uint64_t BeginWrite(int fd, uint64_t offset, size_t len);
  void EndWrite(uint64_t id, bool ok);
  // The writes to `fd`'s file whose completion was reaped: those a sync
  // submitted now covers.
  std::vector<uint64_t> CompletedUnsynced(int fd) const;
  void MarkDurable(const std::vector<uint64_t>& ids);
  void FileCreated(const std::string& path);
  void DirSynced(const std::string& dir);
  void FileRemoved(const std::string& path);

  std::unique_ptr<PowerLossFileSystem> fs_;
  std::map<uint64_t, Write> unsynced_;      // by write id
  std::set<std::string> created_unsynced_;  // file paths
  PowerLossIoEngine* engine_ = nullptr;     // the live wrapper, if any
  bool hold_syncs_ = false;
  uint64_t next_id_ = 1;
  uint64_t syncs_submitted_ = 0;
  bool crashed_ = false;
};

}  // namespace tierkv::nvme::testing
