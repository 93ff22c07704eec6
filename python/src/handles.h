// The objects behind the Python package's clients, namespaces, chains,
// leases and reservations, over the public C++ client (tierkv/client.h).
//
// Lifetimes. Every object made from a client holds it (a shared_ptr to its
// ClientHandle), and every memory view of a block holds the lease or
// reservation it came from. So a view can never outlive the memory it shows:
// the shared pool stays mapped, and a TCP lease's or reservation's bytes stay
// allocated, until the last view is gone. After release, commit or abort a
// view still shows mapped memory, but its bytes may belong to another block.
//
// The GIL. Every call that talks to the daemon releases it (the caller holds
// it on entry, as pybind11 guarantees); the *Locked() variants are for
// callers that have already released it. Handles are safe to share between
// Python threads: the C++ Client serializes requests, and each lease and
// reservation has its own mutex.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "python/src/status_error.h"
#include "tierkv/client.h"

namespace tierkv::python {

namespace py = pybind11;

class LeaseHandle;
class ReservationHandle;

// One connection to tierkvd.
class ClientHandle {
 public:
  // Connects with the GIL released.
  static std::shared_ptr<ClientHandle> Connect(const ConnectOptions& options, std::string tenant);
  ~ClientHandle();

  // The client; Unavailable once closed.
  Client& client();
  const std::string& tenant() const { return tenant_; }
  bool local() const { return client_->is_local(); }
  bool closed() const;

  // Unpins every open lease and aborts every open reservation, and makes every
  // later call fail Unavailable. The connection itself closes when the last
  // object holding this handle (a namespace, lease or block view) is gone.
  void Close();

  void Track(LeaseHandle* lease);
  void Untrack(LeaseHandle* lease);
  void Track(ReservationHandle* reservation);
  void Untrack(ReservationHandle* reservation);

 private:
  ClientHandle(std::unique_ptr<Client> client, std::string tenant)
      : client_(std::move(client)), tenant_(std::move(tenant)) {}

  std::unique_ptr<Client> client_;
  const std::string tenant_;
  mutable std::mutex mu_;  // guards closed_ and the two sets
  bool closed_ = false;
  std::unordered_set<LeaseHandle*> leases_;
  std::unordered_set<ReservationHandle*> reservations_;
};

// The keys of a run of full blocks, with their tokens and the key before the
// first (the namespace id when the run starts a prompt). Immutable.
struct Chain {
  Key128 root;    // the namespace id
  Key128 parent;  // the key before keys[0]
  uint32_t block_tokens = 0;
  std::vector<Key128> keys;
  std::vector<TokenId> tokens;  // keys.size() * block_tokens

  bool starts_at_root() const { return parent == root; }
  // Blocks [begin, end) as a chain of their own.
  Chain Slice(size_t begin, size_t end) const;
};

// A namespace opened on a client.
class NamespaceHandle {
 public:
  NamespaceHandle(std::shared_ptr<ClientHandle> owner, Namespace ns)
      : owner_(std::move(owner)), ns_(ns) {}

  const Namespace& ns() const { return ns_; }
  const std::shared_ptr<ClientHandle>& owner() const { return owner_; }
  // The chain of the full blocks of `tokens` (any sequence or array of token ids).
  Chain MakeChain(py::handle tokens) const;

  uint32_t Lookup(const Chain& chain, bool prefetch);
  void Put(const Chain& chain, py::handle data);
  uint32_t Get(const Chain& chain, py::handle out);
  std::shared_ptr<LeaseHandle> Acquire(const Chain& chain, uint32_t max_blocks, bool gpu);
  std::shared_ptr<ReservationHandle> Reserve(const Chain& chain, bool gpu);

 private:
  // Lookups, gets and acquires name a prompt from its first block.
  void CheckRooted(const Chain& chain, const char* operation) const;
  void CheckSameNamespace(const Chain& chain) const;

  std::shared_ptr<ClientHandle> owner_;
  Namespace ns_;
};

// Pinned blocks lent in place (over TCP: their bytes, held here).
class LeaseHandle : public std::enable_shared_from_this<LeaseHandle> {
 public:
  LeaseHandle(std::shared_ptr<ClientHandle> owner, Lease lease, uint64_t block_bytes);
  ~LeaseHandle();

  size_t size() const { return size_; }
  TierKind location(size_t i) const;
  uint64_t gpu_offset(size_t i) const;
  // Block i as a read-only memoryview that holds this lease.
  py::object View(size_t i);
  // The address of block i's first byte in this process (host blocks).
  uintptr_t Address(size_t i);
  bool released() const;

  // Unpins (idempotent). Release() releases the GIL; ReleaseLocked() is for
  // callers that already have.
  void Release();
  void ReleaseLocked();

 private:
  void CheckBlock(size_t i) const;  // caller holds mu_

  const std::shared_ptr<ClientHandle> owner_;
  const size_t size_;
  const uint64_t block_bytes_;
  mutable std::mutex mu_;  // guards lease_ and released_
  Lease lease_;
  bool released_ = false;
};

// Slots for new blocks, written in place and then committed or aborted.
class ReservationHandle : public std::enable_shared_from_this<ReservationHandle> {
 public:
  ReservationHandle(std::shared_ptr<ClientHandle> owner, Reservation reservation,
                    uint64_t block_bytes);
  ~ReservationHandle();

  size_t size() const { return size_; }
  // Block i as a writable memoryview that holds this reservation, or None when
  // the block is already stored (there is nothing to write).
  py::object View(size_t i);
  uintptr_t Address(size_t i);  // 0 when the block is already stored
  bool open() const;

  // Both release the GIL and consume the reservation.
  void Commit();
  void Abort();
  void AbortLocked();

 private:
  void CheckOpenBlock(size_t i) const;  // caller holds mu_

  const std::shared_ptr<ClientHandle> owner_;
  const size_t size_;
  const uint64_t block_bytes_;
  mutable std::mutex mu_;  // guards reservation_ and open_
  Reservation reservation_;
  bool open_ = true;
};

}  // namespace tierkv::python
