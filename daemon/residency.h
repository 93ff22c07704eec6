// Where a block's copies are, as one value: a host copy, an NVMe copy, a
// GPU copy and a remote copy, each with its own small state, of which only
// the legal combinations can be reached. The transitions below are the only way to
// change a Residency, and each one checks (TIERKV_CHECK) that it starts from
// a state that allows it.
//
//   host   reserved --Commit--> resident --DropHostCopy--> none
//          none --BeginPromotion--> promoting --EndPromotion--> resident | none
//   nvme   none --BeginDemotion--> writing --EndDemotion--> durable | none
//          none --AdoptNvmeCopy--> durable
//   gpu    none --BeginGpuFill--> filling --EndGpuFill--> resident | none
//          resident --DropGpuCopy--> none
//   remote none --BeginRemoteWrite--> writing --EndRemoteWrite--> stored | none
//          none --AdoptRemoteCopy--> stored
//
// Invariants (what makes a combination legal):
//   - a reserved block (a client is writing its host slot) has no other copy;
//   - an NVMe write in flight reads the host copy, so it needs one, and there
//     is no durable NVMe copy beside it;
//   - a block without a host copy has a durable NVMe copy (being promoted or
//     not): a block that is on no tier is dropped, not kept;
//   - a GPU copy, made or being made, needs a host copy (the GPU tier is
//     inclusive), which is resident and not being promoted.
//   - a remote write copies the payload when it starts, so it needs a
//     resident host copy then and nothing after; the remote axis says what
//     this daemon knows of the shared remote tier (which others write and
//     Redis may evict from), so it never keeps a block in the index: a block
//     on no local tier is dropped, and found again by asking the remote tier.
//
// Where a block sits in the LRU lists follows from its residency and pins
// (BlockStore::Relink); a host-axis transition is made while the block is in
// no list.
#pragma once

#include <cstdint>

#include "tierkv/tier_kind.h"

namespace tierkv {

class Residency {
 public:
  enum class Host : uint8_t { kReserved, kResident, kNone, kPromoting };
  enum class Nvme : uint8_t { kNone, kWriting, kDurable };
  enum class Gpu : uint8_t { kNone, kFilling, kResident };
  enum class Remote : uint8_t { kNone, kWriting, kStored };

  // A reserved block: its host slot is being written by a client.
  static Residency Reserved() { return Residency(Host::kReserved, Nvme::kNone); }
  // A block found in the NVMe tier's index at start-up.
  static Residency OnNvme() { return Residency(Host::kNone, Nvme::kDurable); }

  Host host() const { return host_; }
  Nvme nvme() const { return nvme_; }
  Gpu gpu() const { return gpu_; }
  Remote remote() const { return remote_; }

  // Committed: visible to lookups (every state but reserved).
  bool ready() const { return host_ != Host::kReserved; }
  bool on_host() const { return host_ == Host::kResident; }
  bool on_nvme() const { return nvme_ == Nvme::kDurable; }
  bool on_gpu() const { return gpu_ == Gpu::kResident; }
  // Written to (or read from) the remote tier by this daemon.
  bool on_remote() const { return remote_ == Remote::kStored; }
  // The host copy may leave at once: NVMe holds the block durably.
  bool clean() const { return on_host() && on_nvme(); }
  // The fastest tier holding a readable copy.
  TierKind fastest() const;

  void Commit();
  void DropHostCopy();
  void BeginPromotion();
  void EndPromotion(bool ok);
  void BeginDemotion();
  void EndDemotion(bool durable);
  // NVMe already holds the block (a write the daemon did not start).
  void AdoptNvmeCopy();
  void BeginGpuFill();
  void EndGpuFill(bool ok);
  void DropGpuCopy();
  void BeginRemoteWrite();
  void EndRemoteWrite(bool stored);
  // The block came from the remote tier (a promotion of a remote hit).
  void AdoptRemoteCopy();

  friend bool operator==(const Residency&, const Residency&) = default;

 private:
  Residency(Host host, Nvme nvme) : host_(host), nvme_(nvme) {}

  Host host_;
  Nvme nvme_;
  Gpu gpu_ = Gpu::kNone;
  Remote remote_ = Remote::kNone;
};

}  // namespace tierkv
