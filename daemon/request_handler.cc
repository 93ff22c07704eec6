#include "daemon/request_handler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "base/byte_size.h"
#include "daemon/loop_phase.h"
#include "daemon/stats_report.h"
#include "protocol/messages.h"
#include "protocol/reply_frame.h"
#include "protocol/stats_document.h"

namespace tierkv {
namespace {

using wire::MessageType;

std::string DescribeMismatch(size_t got, size_t want, const char* what) {
  return std::string(what) + ": got " + std::to_string(got) + " bytes, want " +
         std::to_string(want);
}

}  // namespace

RequestHandler::RequestHandler(BlockStore* store, NamespaceRegistry* namespaces,
                               HandlerOptions options)
    : store_(store), namespaces_(namespaces), options_(std::move(options)) {}

void RequestHandler::AppendError(const wire::FrameHeader& request, const Status& status,
                                 std::vector<uint8_t>* reply) {
  wire::AppendErrorReply(request, status, reply);
}

RequestHandler::Outcome RequestHandler::Handle(ConnectionResources& conn,
                                               const wire::FrameHeader& header,
                                               std::span<const uint8_t> body,
                                               std::vector<uint8_t>* reply, int* attach_fd) {
  if (header.version < wire::kMinProtocolVersion || header.version > wire::kProtocolVersion) {
    AppendError(header,
                Status::Unsupported("protocol version " + std::to_string(header.version) +
                                    " is not supported (this daemon speaks " +
                                    std::to_string(wire::kMinProtocolVersion) + ".." +
                                    std::to_string(wire::kProtocolVersion) + ")"),
                reply);
    return Outcome::kReplied;
  }
  const auto type = static_cast<MessageType>(header.type);
  if (!conn.greeted() && type != MessageType::kHello) {
    AppendError(header, Status::ProtocolError("the first request must be hello"), reply);
    return Outcome::kReplied;
  }

  const RequestScope scope;
  wire::ReplyFrame frame(header, reply);
  wire::Writer& w = frame.fields();
  wire::Reader r(body);
  bool deferred = false;
  Status s;
  switch (type) {
    case MessageType::kHello: s = Hello(conn, r, w, attach_fd); break;
    case MessageType::kOpenNamespace: s = OpenNamespace(conn, r, w); break;
    case MessageType::kLookup:
      s = Lookup(conn, header, r, w, &deferred);
      break;
    case MessageType::kAcquire: s = Acquire(conn, header, r, w, &deferred); break;
    case MessageType::kRelease: s = Release(conn, r, w); break;
    case MessageType::kReserve:
      s = Reserve(conn, header, r, w, &deferred);
      break;
    case MessageType::kCommit: s = Commit(conn, r, w); break;
    case MessageType::kAbort: s = Abort(conn, r, w); break;
    case MessageType::kStats: s = Stats(conn, r, w); break;
    case MessageType::kEvict: s = Evict(conn, r, w); break;
    case MessageType::kHealth: s = Health(r, w); break;
    case MessageType::kFlush:
      s = Flush(conn, header, r, w, &deferred);
      break;
    case MessageType::kGpuPool: s = GpuPool(conn, r, w); break;
    default:
      s = Status::ProtocolError("unknown message type " + std::to_string(header.type));
  }
  if (s.ok() && deferred) {
    frame.Discard();
    return Outcome::kDeferred;
  }
  if (!s.ok()) {
    if (attach_fd) *attach_fd = -1;
    frame.Fail(s);
  }
  frame.Finish();
  return Outcome::kReplied;
}

Result<NamespaceInfo*> RequestHandler::FindNamespace(const ConnectionResources& conn,
                                                     uint32_t handle) {
  NamespaceInfo* ns = namespaces_->Find(handle);
  if (ns && conn.HasOpened(handle)) return ns;
  // The same answer whether the handle exists or not: handles are not probed.
  if (ns) auth_failures_.Record("namespace handle used by a connection that did not open it");
  return Status::NotFound("unknown namespace handle " + std::to_string(handle) +
                          ": not open on this connection");
}

Status RequestHandler::CheckChain(const NamespaceInfo& ns, const wire::BlockChain& chain) const {
  const size_t want = chain.keys.size() * ns.spec.block_tokens;
  if (chain.tokens.size() != want) {
    return Status::InvalidArgument("chain carries " + std::to_string(chain.tokens.size()) +
                                   " tokens for " + std::to_string(chain.keys.size()) +
                                   " blocks of " + std::to_string(ns.spec.block_tokens) +
                                   " tokens");
  }
  return Status::Ok();
}

Status RequestHandler::Hello(ConnectionResources& conn, wire::Reader& r, wire::Writer& w,
                             int* attach_fd) {
  wire::HelloRequest req;
  if (!wire::HelloRequest::Decode(r, &req)) return Status::ProtocolError("malformed hello");
  if (req.max_version < wire::kMinProtocolVersion || req.min_version > wire::kProtocolVersion) {
    return Status::Unsupported("no common protocol version");
  }
  Credentials creds;
  creds.tenant_token = req.tenant_token;
  bool wrong_token = false;
  creds.admin = IsAdmin({options_.admin_token, options_.daemon_uid}, req.admin_token,
                        conn.peer_uid(), &wrong_token);
  if (wrong_token) auth_failures_.Record("wrong admin token");
  conn.set_greeted(creds);
  wire::HelloReply reply;
  reply.version = std::min(req.max_version, wire::kProtocolVersion);
  reply.server_version = options_.server_version;
  const HostTier& pool = store_->host().tier();
  reply.pool_bytes = pool.pool_bytes();
  if (conn.local() && attach_fd) {
    reply.pool_fd_attached = 1;
    *attach_fd = pool.fd();
  }
  reply.Encode(w);
  return Status::Ok();
}

Status RequestHandler::OpenNamespace(ConnectionResources& conn, wire::Reader& r, wire::Writer& w) {
  wire::OpenNamespaceRequest req;
  if (!wire::OpenNamespaceRequest::Decode(r, &req)) {
    return Status::ProtocolError("malformed open_namespace");
  }
  Result<NamespaceInfo*> opened = namespaces_->Open(req, conn.credentials());
  if (opened.status().code() == StatusCode::kPermissionDenied) {
    auth_failures_.Record("wrong tenant token");
  }
  uint64_t held_back = 0;
  if (opened.status().code() == StatusCode::kResourceExhausted &&
      namespace_limit_log_.ShouldLog(&held_back)) {
    spdlog::warn("refused a new namespace: {} ({} more refusals not logged)",
                 opened.status().message(), held_back);
  }
  TIERKV_ASSIGN_OR_RETURN(NamespaceInfo * ns, std::move(opened));
  conn.AddOpened(ns->handle);
  wire::OpenNamespaceReply reply;
  reply.id = ns->id;
  reply.handle = ns->handle;
  reply.block_tokens = ns->spec.block_tokens;
  reply.block_bytes = ns->spec.block_bytes;
  reply.Encode(w);
  return Status::Ok();
}

Status RequestHandler::Lookup(ConnectionResources& conn, const wire::FrameHeader& header,
                              wire::Reader& r, wire::Writer& w, bool* deferred) {
  wire::LookupRequest req;
  if (!wire::LookupRequest::Decode(r, &req)) return Status::ProtocolError("malformed lookup");
  TIERKV_ASSIGN_OR_RETURN(NamespaceInfo * ns, FindNamespace(conn, req.ns_handle));
  TIERKV_RETURN_IF_ERROR(CheckChain(*ns, req.chain));
  const size_t asked = req.chain.keys.size();
  auto matched = store_->Match(*ns, req.chain, static_cast<uint32_t>(asked));
  wire::LookupReply reply;
  reply.tiers.reserve(matched.size());
  for (const BlockEntry* e : matched) reply.tiers.push_back(static_cast<uint8_t>(e->tier()));
  const bool prefetch = req.flags & wire::kFlagPrefetch;
  if (prefetch) {
    // Start moving NVMe blocks up now; the engine acquires them later.
    (void)store_->WhenOnHost(std::span(req.chain.keys).first(matched.size()), [] {});
  }
  // The local tiers ran out: the remote tier may hold the rest of the chain.
  std::weak_ptr<ConnectionResources> weak = conn.weak_from_this();
  const bool asks_remote = store_->ProbeRemote(
      *ns, req.chain, matched.size(), asked, [weak, header, reply](size_t found) mutable {
        auto c = weak.lock();
        if (!c) return;
        reply.tiers.insert(reply.tiers.end(), found, static_cast<uint8_t>(TierKind::kRemote));
        std::vector<uint8_t> frame;
        wire::AppendReply(
            header, Status::Ok(), [&](wire::Writer& fw) { reply.Encode(fw); }, &frame);
        c->DeliverDeferred(std::move(frame));
      });
  if (asks_remote) {
    // Remote hits start their reads at once, in the same round as the probe.
    if (prefetch) (void)store_->WhenFetched(*ns, req.chain, matched.size(), asked, [] {});
    *deferred = true;
    return Status::Ok();
  }
  reply.Encode(w);
  return Status::Ok();
}

Status RequestHandler::Acquire(ConnectionResources& conn, const wire::FrameHeader& header,
                               wire::Reader& r, wire::Writer& w, bool* deferred) {
  auto req = std::make_shared<wire::AcquireRequest>();
  if (!wire::AcquireRequest::Decode(r, req.get())) {
    return Status::ProtocolError("malformed acquire");
  }
  TIERKV_ASSIGN_OR_RETURN(NamespaceInfo * ns, FindNamespace(conn, req->ns_handle));
  TIERKV_RETURN_IF_ERROR(CheckChain(*ns, req->chain));
  uint32_t max_blocks = req->max_blocks;
  if (req->flags & wire::kFlagInline) {
    // An inline reply must fit one frame.
    const uint64_t fit = (wire::kMaxBodyBytes - (1u << 20)) / ns->spec.block_bytes;
    max_blocks = static_cast<uint32_t>(std::min<uint64_t>(max_blocks, fit));
  }
  auto matched = store_->Match(*ns, req->chain, max_blocks);
  const size_t want = std::min<size_t>(req->chain.keys.size(), max_blocks);
  const bool all_on_host = std::all_of(matched.begin(), matched.end(),
                                       [](const BlockEntry* e) { return e->residency.on_host(); });
  if (all_on_host && (matched.size() == want || !store_->remote())) {
    FinishAcquire(conn, *ns, *req, std::move(matched), w);
    return Status::Ok();
  }
  // Some blocks are on NVMe, or the rest of the chain may be on the remote
  // tier: promote them (both at once), then reply.
  std::weak_ptr<ConnectionResources> weak = conn.weak_from_this();
  auto reply_later = [this, weak, header, ns, req, max_blocks] {
    auto c = weak.lock();
    if (!c) return;  // the client left; nothing was pinned for it
    std::vector<uint8_t> reply;
    wire::AppendReply(
        header, Status::Ok(),
        [&](wire::Writer& fw) {
          FinishAcquire(*c, *ns, *req, store_->Match(*ns, req->chain, max_blocks, false), fw);
        },
        &reply);
    c->DeliverDeferred(std::move(reply));
  };
  // Completions never run inside these calls, so the count is set before
  // the first can end.
  auto waiting = std::make_shared<int>(0);
  auto one_ended = [waiting, reply_later] {
    if (--*waiting == 0) reply_later();
  };
  const size_t local = matched.size();
  if (!all_on_host && store_->WhenOnHost(std::span(req->chain.keys).first(local), one_ended)) {
    ++*waiting;
  }
  if (store_->WhenFetched(*ns, req->chain, local, want, one_ended)) ++*waiting;
  if (*waiting > 0) {
    *deferred = true;
  } else {
    // Nothing could start: serve the prefix that is on the host.
    FinishAcquire(conn, *ns, *req, store_->Match(*ns, req->chain, max_blocks, false), w);
  }
  return Status::Ok();
}

void RequestHandler::FinishAcquire(ConnectionResources& conn, const NamespaceInfo& ns,
                                   const wire::AcquireRequest& req,
                                   std::vector<BlockEntry*> matched, wire::Writer& w) {
  // Serve the prefix that is on the host now; a block whose promotion failed
  // ends it (and is a miss for the engine, which recomputes from there).
  auto host_end = std::find_if(matched.begin(), matched.end(),
                               [](const BlockEntry* e) { return !e->residency.on_host(); });
  matched.erase(host_end, matched.end());
  const uint64_t block_bytes = ns.spec.block_bytes;
  // Device memory is shared with processes on this node only.
  const bool gpu_client =
      (req.flags & wire::kFlagGpu) && !(req.flags & wire::kFlagInline) && conn.local();
  wire::AcquireReply reply;
  for (const BlockEntry* e : matched) {
    const bool from_gpu = gpu_client && e->residency.on_gpu();
    reply.offsets.push_back(from_gpu ? e->gpu_slot.offset : e->host_slot.offset);
    reply.tiers.push_back(static_cast<uint8_t>(from_gpu ? TierKind::kGpu : TierKind::kHost));
    if (from_gpu) {
      store_->CountGpuBytesOut(block_bytes);
    } else {
      store_->CountBytesOut(block_bytes);
    }
  }
  if (req.flags & wire::kFlagInline) {
    reply.Encode(w);
    store_->CopyOut(matched, w.Extend(matched.size() * block_bytes));
    return;
  }
  if (!matched.empty()) reply.lease_id = conn.AddLease(matched);
  reply.Encode(w);
  // After pinning: a pinned block keeps its host copy, the copy's source.
  if (gpu_client) store_->StartGpuFills(matched);
}

Status RequestHandler::Release(ConnectionResources& conn, wire::Reader& r, wire::Writer& w) {
  wire::IdRequest req;
  if (!wire::IdRequest::Decode(r, &req)) return Status::ProtocolError("malformed release");
  if (!conn.ReleaseLease(req.id)) {
    return Status::NotFound("no lease " + std::to_string(req.id) + " on this connection");
  }
  return Status::Ok();
}

Status RequestHandler::Reserve(ConnectionResources& conn, const wire::FrameHeader& header,
                               wire::Reader& r, wire::Writer& w, bool* deferred) {
  wire::ReserveRequest req;
  if (!wire::ReserveRequest::Decode(r, &req)) return Status::ProtocolError("malformed reserve");
  TIERKV_ASSIGN_OR_RETURN(NamespaceInfo * ns, FindNamespace(conn, req.ns_handle));
  TIERKV_RETURN_IF_ERROR(CheckChain(*ns, req.chain));
  const bool inline_bytes = req.flags & wire::kFlagInline;
  if (!inline_bytes && !conn.local()) {
    // A slot's bytes reach a TCP client only through what it sends: without
    // them, a commit would publish whatever the slot held before.
    return Status::InvalidArgument(
        "a reserve over TCP must carry its payload inline (flag inline); only a client on the "
        "Unix socket writes reserved slots itself");
  }
  std::span<const uint8_t> payload;
  if (inline_bytes) {
    const uint64_t want = req.chain.keys.size() * ns->spec.block_bytes;
    if (r.remaining() != want) {
      return Status::InvalidArgument(DescribeMismatch(r.remaining(), want, "inline payload"));
    }
    payload = r.Bytes(want);
  } else if (r.remaining() != 0) {
    return Status::ProtocolError("trailing bytes after reserve");
  }
  // A client on this node that reads the GPU tier: its new blocks go up too
  // once committed, since it is likely to read them again soon.
  const bool gpu_client = (req.flags & wire::kFlagGpu) && conn.local();
  std::weak_ptr<ConnectionResources> weak = conn.weak_from_this();
  auto now = store_->Reserve(
      *ns, req.chain, payload,
      [this, weak, header, inline_bytes, gpu_client](Result<BlockStore::Reserved> reserved) {
        auto c = weak.lock();
        if (!c) {
          // The client left while its reserve waited for room.
          if (reserved.ok() && !inline_bytes) AbortReserved(*reserved);
          return;
        }
        std::vector<uint8_t> reply;
        wire::AppendReply(
            header, reserved.status(),
            [&](wire::Writer& fw) {
              EncodeReserveReply(*c, std::move(*reserved), inline_bytes, gpu_client, fw);
            },
            &reply);
        c->DeliverDeferred(std::move(reply));
      });
  if (!now) {
    *deferred = true;  // room waits for the disk; the reply comes from a completion
    return Status::Ok();
  }
  if (!now->ok()) return now->status();
  EncodeReserveReply(conn, std::move(**now), inline_bytes, gpu_client, w);
  return Status::Ok();
}

void RequestHandler::EncodeReserveReply(ConnectionResources& conn, BlockStore::Reserved reserved,
                                        bool committed, bool copy_up_to_gpu, wire::Writer& w) {
  wire::ReserveReply reply;
  std::vector<BlockEntry*> entries;
  for (BlockEntry* e : reserved) {
    reply.offsets.push_back(e ? e->host_slot.offset : wire::kNoSlot);
    if (e) entries.push_back(e);
  }
  if (!committed && !entries.empty()) {
    reply.reservation_id = conn.AddReservation(std::move(entries), copy_up_to_gpu);
  }
  reply.Encode(w);
}

void RequestHandler::AbortReserved(const BlockStore::Reserved& reserved) {
  std::vector<BlockEntry*> entries;
  for (BlockEntry* e : reserved) {
    if (e) entries.push_back(e);
  }
  store_->Abort(entries);
}

Status RequestHandler::Commit(ConnectionResources& conn, wire::Reader& r, wire::Writer& w) {
  wire::IdRequest req;
  if (!wire::IdRequest::Decode(r, &req)) return Status::ProtocolError("malformed commit");
  std::vector<BlockEntry*> entries;
  bool copy_up_to_gpu = false;
  if (!conn.TakeReservation(req.id, &entries, &copy_up_to_gpu)) {
    return Status::NotFound("no reservation " + std::to_string(req.id) + " on this connection");
  }
  store_->Commit(entries);
  if (copy_up_to_gpu) store_->StartGpuFills(entries);
  wire::CountReply{entries.size()}.Encode(w);
  return Status::Ok();
}

Status RequestHandler::Abort(ConnectionResources& conn, wire::Reader& r, wire::Writer& w) {
  wire::IdRequest req;
  if (!wire::IdRequest::Decode(r, &req)) return Status::ProtocolError("malformed abort");
  std::vector<BlockEntry*> entries;
  if (!conn.TakeReservation(req.id, &entries)) {
    return Status::NotFound("no reservation " + std::to_string(req.id) + " on this connection");
  }
  store_->Abort(entries);
  return Status::Ok();
}

Status RequestHandler::Evict(ConnectionResources& conn, wire::Reader& r, wire::Writer& w) {
  wire::EvictRequest req;
  if (!wire::EvictRequest::Decode(r, &req)) return Status::ProtocolError("malformed evict");
  if (!conn.credentials().admin) return Status::PermissionDenied("evict needs the admin token");
  const Key128* ns_id = nullptr;
  if (!req.all) {
    // An admin may name any namespace (stats shows it every handle).
    const NamespaceInfo* ns = namespaces_->Find(req.ns_handle);
    if (!ns) return Status::NotFound("unknown namespace handle " + std::to_string(req.ns_handle));
    ns_id = &ns->id;
  }
  wire::CountReply{store_->Evict(ns_id)}.Encode(w);
  return Status::Ok();
}

Status RequestHandler::Flush(ConnectionResources& conn, const wire::FrameHeader& header,
                             wire::Reader& r, wire::Writer& w, bool* deferred) {
  if (!r.done()) return Status::ProtocolError("flush takes no fields");
  if (!conn.credentials().admin) return Status::PermissionDenied("flush needs the admin token");
  std::weak_ptr<ConnectionResources> weak = conn.weak_from_this();
  auto now = store_->Flush([weak, header](FlushResult result) {
    auto c = weak.lock();
    if (!c) return;
    std::vector<uint8_t> reply;
    wire::AppendReply(
        header, result.first_error,
        [&](wire::Writer& fw) { wire::CountReply{result.written}.Encode(fw); }, &reply);
    c->DeliverDeferred(std::move(reply));
  });
  if (!now) {
    *deferred = true;
    return Status::Ok();
  }
  TIERKV_RETURN_IF_ERROR(now->first_error);
  wire::CountReply{now->written}.Encode(w);
  return Status::Ok();
}

Status RequestHandler::Stats(const ConnectionResources& conn, wire::Reader& r,
                             wire::Writer& w) {
  if (!r.done()) return Status::ProtocolError("stats takes no fields");
  wire::TextReply{StatsJson(conn)}.Encode(w);
  return Status::Ok();
}

Status RequestHandler::Health(wire::Reader& r, wire::Writer& w) {
  if (!r.done()) return Status::ProtocolError("health takes no fields");
  wire::HealthReply reply;
  reply.ok = 1;
  reply.version = options_.server_version;
  const HostTier& host = store_->host().tier();
  const uint64_t used = host.used_bytes();
  const uint64_t capacity = host.capacity_bytes();
  char percent[16];
  std::snprintf(percent, sizeof percent, "%.1f%%",
                capacity ? 100.0 * static_cast<double>(used) / capacity : 0.0);
  reply.detail =
      "host tier " + FormatBytes(used) + " of " + FormatBytes(capacity) + " used (" + percent + ")";
  reply.Encode(w);
  return Status::Ok();
}

Status RequestHandler::GpuPool(const ConnectionResources& conn, wire::Reader& r,
                               wire::Writer& w) {
  if (!r.done()) return Status::ProtocolError("gpu_pool takes no fields");
  if (!conn.local()) {
    return Status::Unsupported("the GPU tier is shared with local clients only (Unix socket)");
  }
  const GpuMirror* gpu = store_->gpu();
  if (!gpu) return Status::Unavailable("gpu tier is off: " + options_.gpu_off_reason);
  TIERKV_ASSIGN_OR_RETURN(GpuPoolExport exported, gpu->Export());
  wire::GpuPoolReply reply;
  reply.device = exported.pool.device;
  reply.pci_bus_id = exported.pool.pci_bus_id;
  reply.ipc_handle = exported.pool.ipc_handle;
  reply.pool_bytes = exported.pool.bytes;
  reply.description = std::move(exported.description);
  reply.Encode(w);
  return Status::Ok();
}

std::string RequestHandler::StatsJson(const ConnectionResources& viewer) const {
  DaemonFacts facts;
  facts.version = options_.server_version;
  facts.uptime_s = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
  facts.connections = connections_;
  facts.gpu_off_reason = options_.gpu_off_reason;
  tierkv::Stats stats = CollectStats(*store_, *namespaces_, facts);
  if (!viewer.credentials().admin) {
    // The tenants this connection proved, by the namespaces it opened.
    std::set<std::string> tenants;
    for (const auto& ns : namespaces_->all()) {
      if (viewer.HasOpened(ns->handle)) tenants.insert(ns->spec.tenant);
    }
    std::erase_if(stats.namespaces,
                  [&](const NamespaceStats& n) { return !tenants.contains(n.tenant); });
    for (NamespaceStats& n : stats.namespaces) n.id_hex.clear();
  }
  // The document stays bounded however many namespaces there are: it lists
  // those holding the most blocks and counts the rest.
  constexpr size_t kListed = tierkv::Stats::kMaxListedNamespaces;
  if (stats.namespaces.size() > kListed) {
    std::partial_sort(stats.namespaces.begin(), stats.namespaces.begin() + kListed,
                      stats.namespaces.end(), [](const NamespaceStats& a, const NamespaceStats& b) {
                        return a.blocks != b.blocks ? a.blocks > b.blocks : a.handle < b.handle;
                      });
    stats.namespaces_omitted = stats.namespaces.size() - kListed;
    stats.namespaces.resize(kListed);
  }
  return wire::EncodeStats(stats);
}

}  // namespace tierkv
