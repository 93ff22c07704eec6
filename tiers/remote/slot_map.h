// SlotMap: which master serves each of the 16384 cluster slots, as a CLUSTER
// SLOTS reply describes it, patched by MOVED redirects between refreshes.
//
// Invariants: every master in masters() serves at least one slot after
// FromClusterSlots (Assign may leave one with none until the next refresh);
// MasterOf() of an unassigned slot is null.
//
// Thread safety: a plain value; not synchronized.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tierkv/status.h"
#include "tiers/remote/key_slot.h"
#include "tiers/remote/remote_url.h"

struct redisReply;

namespace tierkv::remote {

class SlotMap {
 public:
  // A map with no slot assigned.
  SlotMap();
  // Every slot served by `node` (one server, not a cluster).
  static SlotMap SingleNode(const HostPort& node);
  // Parses a CLUSTER SLOTS reply received from `queried`. An empty node IP in
  // the reply means `queried`'s host (what Redis sends when it does not know
  // its own address). ProtocolError on a reply of the wrong shape; the
  // server's error text when the reply is an error (e.g. cluster support
  // disabled).
  static Result<SlotMap> FromClusterSlots(const redisReply& reply, const HostPort& queried);

  // The master serving `slot`, or null if none does.
  const HostPort* MasterOf(uint16_t slot) const;
  // Records that `master` serves `slot` now (a MOVED redirect said so).
  void Assign(uint16_t slot, const HostPort& master);

  const std::vector<HostPort>& masters() const { return masters_; }
  // Replicas named by the last refresh: further nodes to ask for the next.
  const std::vector<HostPort>& replicas() const { return replicas_; }
  // How many slots have a master.
  uint32_t covered_slots() const { return covered_; }
  // How many slots `master` serves.
  uint32_t SlotsOf(const HostPort& master) const;

 private:
  static constexpr int16_t kUnassigned = -1;
  int16_t IndexOf(const HostPort& master);

  std::vector<HostPort> masters_;
  std::vector<HostPort> replicas_;
  std::array<int16_t, kClusterSlots> owner_;  // index into masters_, or kUnassigned
  uint32_t covered_ = 0;
};

}  // namespace tierkv::remote
