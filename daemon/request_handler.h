// Turns one decoded request frame into one reply frame. Everything a client
// sends goes through here; a request that cannot be decoded or names something
// unknown gets an error reply and changes nothing.
//
// Thread safety: none; called from the daemon's event-loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

#include "daemon/auth.h"
#include "daemon/block_store.h"
#include "daemon/connection_resources.h"
#include "daemon/namespace_registry.h"
#include "daemon/rate_limited_log.h"
#include "protocol/wire.h"

namespace tierkv {

struct HandlerOptions {
  // Empty: no token makes a connection admin; then only Unix peers with the
  // daemon's uid (or root) are (daemon/auth.h).
  std::string admin_token;
  std::string server_version;
  // Why the daemon runs without a GPU tier (empty when it has one).
  std::string gpu_off_reason;
  uid_t daemon_uid = ::geteuid();
};

class RequestHandler {
 public:
  RequestHandler(BlockStore* store, NamespaceRegistry* namespaces, HandlerOptions options);

  enum class Outcome { kReplied, kDeferred };

  // Handles the request and appends the whole reply frame to `reply`. When the
  // reply must carry the shared pool's fd (a local hello), *attach_fd is set.
  // kDeferred: the request waits on the NVMe or remote tier and its reply frame comes
  // later through conn.DeliverDeferred(), from a completion (never before
  // Handle returns); the connection must not be sent another reply before it.
  Outcome Handle(ConnectionResources& conn, const wire::FrameHeader& header,
                 std::span<const uint8_t> body, std::vector<uint8_t>* reply, int* attach_fd);

  // Appends an error reply frame (for frames rejected before decoding).
  static void AppendError(const wire::FrameHeader& request, const Status& status,
                          std::vector<uint8_t>* reply);

  void set_connection_count(uint64_t n) { connections_ = n; }
  // The statistics document that `tierkv stats` shows (JSON): everything to
  // an admin; to anyone else the tier totals and the namespaces of the
  // tenants it opened, without their ids.
  std::string StatsJson(const ConnectionResources& viewer) const;
  // Credentials refused so far (bad tokens, handles of other connections).
  uint64_t auth_failures() const { return auth_failures_.count(); }

 private:
  Status Hello(ConnectionResources& conn, wire::Reader& r, wire::Writer& w, int* attach_fd);
  Status OpenNamespace(ConnectionResources& conn, wire::Reader& r, wire::Writer& w);
  Status Lookup(ConnectionResources& conn, const wire::FrameHeader& header, wire::Reader& r,
                wire::Writer& w, bool* deferred);
  Status Acquire(ConnectionResources& conn, const wire::FrameHeader& header, wire::Reader& r,
                 wire::Writer& w, bool* deferred);
  // Pins the host-resident head of `matched` and encodes the acquire reply
  // (with the bytes, inline).
  void FinishAcquire(ConnectionResources& conn, const NamespaceInfo& ns,
                     const wire::AcquireRequest& req, std::vector<BlockEntry*> matched,
                     wire::Writer& w);
  Status Flush(ConnectionResources& conn, const wire::FrameHeader& header, wire::Reader& r,
               wire::Writer& w, bool* deferred);
  Status Release(ConnectionResources& conn, wire::Reader& r, wire::Writer& w);
  Status Reserve(ConnectionResources& conn, const wire::FrameHeader& header, wire::Reader& r,
                 wire::Writer& w, bool* deferred);
  // Encodes the reserve reply; blocks not `committed` (inline) become a
  // reservation of the connection.
  void EncodeReserveReply(ConnectionResources& conn, BlockStore::Reserved reserved, bool committed,
                          bool copy_up_to_gpu, wire::Writer& w);
  void AbortReserved(const BlockStore::Reserved& reserved);
  Status Commit(ConnectionResources& conn, wire::Reader& r, wire::Writer& w);
  Status Abort(ConnectionResources& conn, wire::Reader& r, wire::Writer& w);
  Status Stats(const ConnectionResources& conn, wire::Reader& r, wire::Writer& w);
  Status Evict(ConnectionResources& conn, wire::Reader& r, wire::Writer& w);
  Status Health(wire::Reader& r, wire::Writer& w);
  Status GpuPool(const ConnectionResources& conn, wire::Reader& r, wire::Writer& w);

  // The namespace of `handle`, when `conn` opened it; NotFound otherwise
  // (a handle another connection opened is counted as a refusal).
  Result<NamespaceInfo*> FindNamespace(const ConnectionResources& conn, uint32_t handle);
  Status CheckChain(const NamespaceInfo& ns, const wire::BlockChain& chain) const;

  BlockStore* store_;
  NamespaceRegistry* namespaces_;
  HandlerOptions options_;
  AuthFailures auth_failures_;
  RateLimitedLog namespace_limit_log_;  // new namespaces refused for the limits
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  uint64_t connections_ = 0;
};

}  // namespace tierkv
