// What one client connection holds in the daemon: its credentials, the
// namespaces it opened (the only handles it may use), its leases (pinned
// blocks) and its reservations (slots being written). All of it is
// released when the object is destroyed, which happens when the connection
// closes, however it closes: a clean close, a reset, or a killed client.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "daemon/block_store.h"
#include "daemon/namespace_registry.h"

namespace tierkv {

class ConnectionResources : public std::enable_shared_from_this<ConnectionResources> {
 public:
  // Sends a reply that was deferred (the request waited on NVMe); set by the
  // session that owns this connection.
  using Deliver = std::function<void(std::vector<uint8_t> reply)>;

  ConnectionResources(BlockStore* store, bool local) : store_(store), local_(local) {}
  ~ConnectionResources();
  ConnectionResources(const ConnectionResources&) = delete;
  ConnectionResources& operator=(const ConnectionResources&) = delete;

  bool local() const { return local_; }
  bool greeted() const { return greeted_; }
  void set_greeted(const Credentials& creds) {
    greeted_ = true;
    creds_ = creds;
  }
  const Credentials& credentials() const { return creds_; }
  // The peer's uid (SO_PEERCRED), known on the Unix socket only.
  std::optional<uid_t> peer_uid() const { return peer_uid_; }
  void set_peer_uid(uid_t uid) { peer_uid_ = uid; }

  // A namespace this connection opened with its credentials.
  void AddOpened(uint32_t ns_handle) { opened_.insert(ns_handle); }
  bool HasOpened(uint32_t ns_handle) const { return opened_.contains(ns_handle); }
  void set_deliver(Deliver deliver) { deliver_ = std::move(deliver); }
  // Sends a deferred reply; called from completions only (never inside a
  // request: daemon/loop_phase.h).
  void DeliverDeferred(std::vector<uint8_t> reply);

  // Pins `entries` and returns the lease id that releases them.
  uint64_t AddLease(std::vector<BlockEntry*> entries);
  bool ReleaseLease(uint64_t lease_id);

  // `copy_up_to_gpu`: the blocks go to the GPU tier too once committed.
  uint64_t AddReservation(std::vector<BlockEntry*> entries, bool copy_up_to_gpu = false);
  // Removes and returns a reservation's entries (and whether they go to the
  // GPU tier); false when the id is unknown.
  bool TakeReservation(uint64_t reservation_id, std::vector<BlockEntry*>* entries,
                       bool* copy_up_to_gpu = nullptr);

  size_t lease_count() const { return leases_.size(); }
  size_t reservation_count() const { return reservations_.size(); }

 private:
  BlockStore* store_;
  bool local_;
  bool greeted_ = false;
  Credentials creds_;
  std::optional<uid_t> peer_uid_;
  std::unordered_set<uint32_t> opened_;  // namespace handles
  Deliver deliver_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::vector<BlockEntry*>> leases_;
  std::unordered_map<uint64_t, std::vector<BlockEntry*>> reservations_;
  std::unordered_set<uint64_t> gpu_reservations_;  // ids made with copy_up_to_gpu
};

}  // namespace tierkv
