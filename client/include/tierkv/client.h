// libtierkv: the C++ client of tierkvd.
//
// A Client is one connection to one daemon, over its Unix socket (local: the
// daemon's shared CPU pool is mapped into this process and payload bytes never
// cross the socket) or over TCP (remote: payload bytes travel inline).
//
// Typical engine flow before a prefill:
//   auto ns = client->OpenNamespace(spec);                 // once
//   auto keys = ChainBlockKeys(ns->id, prompt, ns->block_tokens);   // local, no round trip
//   auto hit = client->Lookup(*ns, keys, prompt, {.prefetch = true});
//   auto lease = client->Acquire(*ns, keys, prompt, hit->matched_blocks);
//   ... copy lease->payload(i) into KV pages ...; lease goes out of scope: unpinned
//   ... prefill the rest, then Put() the new full blocks.
//
// Thread safety: a Client serializes its requests with an internal mutex, so it
// may be shared between threads; for parallel requests use one Client per thread.
// Leases and Reservations must not outlive the Client that made them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tierkv/keys.h"
#include "tierkv/namespace_spec.h"
#include "tierkv/span.h"
#include "tierkv/stats.h"
#include "tierkv/status.h"
#include "tierkv/tier_kind.h"

namespace tierkv {

class Connection;

struct ConnectOptions {
  // "unix:/path/to/sock" or a path (Unix socket); "tcp:host:port" or
  // "host:port" (TCP), the same syntax tierkvd's flags take.
  std::string address = "/tmp/tierkv.sock";
  // Tenant credentials (empty: the default tenant).
  std::string tenant_token;
  // Admin token, needed for evict and flush when the daemon sets one.
  std::string admin_token;
  int timeout_ms = 10000;
  // Touch every page of the daemon's shared pool at connect (local sockets).
  // Engines want this: on VMs with shadow paging each process's first access
  // to each pool page traps to the hypervisor (~7 us per 4 KiB here, about
  // 1 s per GiB of pool at connect), and without it the first cached prefix
  // an engine reads pays that instead (65 ms for 34 MB measured, against 2 ms
  // after). Short-lived tools (the CLI) leave it off.
  bool touch_pool = false;
  // Map the pool without faulting in any page (touch_pool is then ignored):
  // the process pays only for the pool pages it goes on to read or write,
  // instead of about 1 s per GiB of pool at connect. For engines that read a
  // few prefixes of a large pool (DaemonPrefixCache, which prefaults the
  // blocks each lease lends).
  bool map_pool_lazily = false;
  // Map the daemon's shared pool (local sockets). Tools that move no payload
  // bytes, or few (the CLI), leave it off: mapping costs page-table setup for
  // the whole pool (0.3 s and 260 MB of page tables for a 256 MiB pool
  // here), and without it payloads travel inline in the frames, as over TCP.
  bool map_pool = true;
};

struct Namespace {
  Key128 id;                 // root of this namespace's key chains
  uint32_t handle = 0;       // daemon-side handle used on the wire
  uint32_t block_tokens = 0;
  uint64_t block_bytes = 0;
};


struct LookupOptions {
  bool prefetch = false;  // start moving NVMe-resident matched blocks up to host now
};

struct AcquireOptions {
  // This process reads the daemon's GPU tier (it opened GpuPool() with CUDA
  // IPC): blocks with a GPU copy come as GPU locations, and blocks without
  // one start copying up, so that a later acquire finds them there.
  bool gpu = false;
};

struct ReserveOptions {
  // This process reads the daemon's GPU tier: once committed, the blocks
  // start copying up to it too (it will likely read them again soon).
  bool gpu = false;
};

// The daemon's GPU tier pool, as an engine on the same GPU opens it:
// cudaIpcOpenMemHandle(&base, handle) on `device`, then block i of a lease
// lives at base + lease.gpu_offset(i).
struct GpuPoolInfo {
  int device = 0;
  std::string pci_bus_id;
  std::string ipc_handle;  // cudaIpcMemHandle_t bytes
  uint64_t pool_bytes = 0;
  std::string description;
};

struct LookupResult {
  uint32_t matched_blocks = 0;       // length of the longest cached, verified prefix
  std::vector<TierKind> locations;   // where each matched block lives
};

// A pinned set of blocks. While a Lease lives, its blocks are neither evicted
// nor moved. Destroying it (or Release()) unpins them. Move-only.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&&) noexcept;
  Lease& operator=(Lease&&) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  size_t size() const { return locations_.size(); }
  // kHost: payload(i) holds the block. kGpu (only with AcquireOptions::gpu):
  // the block is at gpu_offset(i) in the GPU pool and payload(i) is empty.
  TierKind location(size_t i) const { return locations_[i]; }
  uint64_t gpu_offset(size_t i) const { return gpu_offsets_[i]; }
  // Read-only view of block i's bytes (in the shared pool, or owned for TCP).
  Span<const std::byte> payload(size_t i) const { return payloads_[i]; }
  // Unpins now; the payload views become invalid. Idempotent.
  Status Release();

 private:
  friend class Client;
  Connection* conn_ = nullptr;
  uint64_t lease_id_ = 0;
  std::vector<Span<const std::byte>> payloads_;
  std::vector<TierKind> locations_;
  std::vector<uint64_t> gpu_offsets_;    // 0 for blocks on the host
  std::vector<std::byte> inline_bytes_;  // TCP: the bytes came in the reply
};

// Slots reserved for new blocks. Write each payload(i) in full, then Commit().
// Destroying an uncommitted Reservation aborts it (slots freed). Move-only.
class Reservation {
 public:
  Reservation() = default;
  Reservation(Reservation&&) noexcept;
  Reservation& operator=(Reservation&&) noexcept;
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  ~Reservation();

  size_t size() const { return payloads_.size(); }
  Span<std::byte> payload(size_t i) { return payloads_[i]; }
  // Publishes the blocks: they become visible to lookups. Consumes the reservation.
  Status Commit();
  Status Abort();

 private:
  friend class Client;
  Connection* conn_ = nullptr;
  uint64_t reservation_id_ = 0;
  uint32_t ns_handle_ = 0;
  std::vector<Span<std::byte>> payloads_;
  std::vector<std::byte> inline_bytes_;  // TCP: bytes are sent with the commit
  // TCP: what the commit names.
  Key128 inline_parent_;
  std::vector<Key128> inline_keys_;
  std::vector<TokenId> inline_tokens_;
};

struct Health {
  bool ok = false;
  std::string version;
  std::string detail;
};

class Client {
 public:
  // Connects and says hello (version check; on a Unix socket also maps the pool).
  static Result<std::unique_ptr<Client>> Connect(const ConnectOptions& options);
  ~Client();

  bool is_local() const;  // true when payloads live in the mapped shared pool

  // The daemon's shared pool as mapped into this process: every local
  // payload (Lease::payload, Reservation::payload) lies inside it, and it
  // stays mapped for the Client's lifetime, so it can be registered once for
  // device access (cudaHostRegister). Empty when not local (TCP).
  Span<std::byte> shared_pool() const;

  Result<Namespace> OpenNamespace(const NamespaceSpec& spec);

  // Longest verified cached prefix of the chain. `tokens` holds keys.size() *
  // block_tokens token ids (the blocks' own tokens, checked by the daemon).
  Result<LookupResult> Lookup(const Namespace& ns, Span<const Key128> keys,
                              Span<const TokenId> tokens, const LookupOptions& options = {});

  // Pins the longest verified prefix of at most `max_blocks` blocks and returns
  // their payloads. The lease may hold fewer blocks than asked (a miss ends it).
  Result<Lease> Acquire(const Namespace& ns, Span<const Key128> keys,
                        Span<const TokenId> tokens, uint32_t max_blocks,
                        const AcquireOptions& options = {});

  // The daemon's GPU tier pool (local connections). Unavailable, with the
  // daemon's reason, when it runs without a GPU tier.
  Result<GpuPoolInfo> GpuPool();

  // Reserves slots for blocks keys[0..n) (their tokens in `tokens`); `parent` is
  // the key before keys[0] (ns.id when keys[0] is a prompt's first block). The
  // daemon checks that every key is the hash of its parent and tokens. A block
  // that is already stored gets an empty payload(i) span: there is nothing to write.
  Result<Reservation> Reserve(const Namespace& ns, const Key128& parent,
                              Span<const Key128> keys, Span<const TokenId> tokens,
                              const ReserveOptions& options = {});

  // Convenience: Reserve, copy `payload` (keys.size() * block_bytes), Commit.
  Status Put(const Namespace& ns, const Key128& parent, Span<const Key128> keys,
             Span<const TokenId> tokens, Span<const std::byte> payload);

  // Convenience: Acquire, copy block i of the cached prefix to out[i *
  // block_bytes], release. Returns the number of blocks copied. `out` smaller
  // than keys.size() * block_bytes is InvalidArgument (pass fewer keys to read
  // fewer blocks).
  Result<uint32_t> Get(const Namespace& ns, Span<const Key128> keys,
                       Span<const TokenId> tokens, Span<std::byte> out);

  // The daemon's statistics document (tierkv/stats.h).
  Result<Stats> GetStats();
  // Evicts every unpinned block of `ns` (or of all namespaces when null). Returns how many.
  Result<uint64_t> Evict(const Namespace* ns);
  Result<Health> GetHealth();
  // Writes every host-tier block that has no NVMe copy yet to NVMe and returns
  // how many; when it returns OK, every block stored before the call survives
  // a daemon crash. Needs the admin token when the daemon sets one.
  Result<uint64_t> Flush();

 private:
  explicit Client(std::unique_ptr<Connection> conn);
  std::unique_ptr<Connection> conn_;
};

}  // namespace tierkv
