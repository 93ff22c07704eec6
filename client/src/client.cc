#include "tierkv/client.h"

#include <cstring>
#include <utility>

#include "client/src/connection.h"
#include "protocol/messages.h"
#include "protocol/stats_document.h"

namespace tierkv {
namespace {

using wire::MessageType;

template <typename Request>
std::vector<uint8_t> EncodeBody(const Request& req) {
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  req.Encode(w);
  return body;
}

// Room for any request's fields and chain head, so encoding them allocates once.
constexpr size_t kRequestHeadBytes = 64;

// Sends a request whose chain goes to the socket straight from the caller's
// arrays (no copy of keys, tokens or payload), followed by `payload`.
template <typename Request>
Status CallWithChain(Connection& conn, MessageType type, const Request& fields,
                     const Key128& parent, std::span<const Key128> keys,
                     std::span<const TokenId> tokens, std::span<const std::byte> payload,
                     ReplyBuffer* reply) {
  std::vector<uint8_t> head;
  head.reserve(kRequestHeadBytes);
  wire::Writer w(&head);
  fields.EncodeFields(w);
  const auto blocks = static_cast<uint32_t>(keys.size());
  wire::EncodeChainHead(w, parent, blocks,
                        blocks == 0 ? 0 : static_cast<uint32_t>(tokens.size() / blocks));
  const std::span<const std::byte> tail[] = {wire::KeyBytes(keys), wire::TokenBytes(tokens),
                                             payload};
  return conn.Call(type, head, tail, reply);
}

Status CheckTokens(const Namespace& ns, Span<const Key128> keys,
                   Span<const TokenId> tokens) {
  if (tokens.size() != keys.size() * ns.block_tokens) {
    return Status::InvalidArgument("need " + std::to_string(keys.size() * ns.block_tokens) +
                                   " tokens for " + std::to_string(keys.size()) +
                                   " blocks, got " + std::to_string(tokens.size()));
  }
  return Status::Ok();
}

}  // namespace

// ---- Lease ----

Lease::Lease(Lease&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)),
      lease_id_(std::exchange(o.lease_id_, 0)),
      payloads_(std::move(o.payloads_)),
      locations_(std::move(o.locations_)),
      gpu_offsets_(std::move(o.gpu_offsets_)),
      inline_bytes_(std::move(o.inline_bytes_)) {}

Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    (void)Release();
    conn_ = std::exchange(o.conn_, nullptr);
    lease_id_ = std::exchange(o.lease_id_, 0);
    payloads_ = std::move(o.payloads_);
    locations_ = std::move(o.locations_);
    gpu_offsets_ = std::move(o.gpu_offsets_);
    inline_bytes_ = std::move(o.inline_bytes_);
  }
  return *this;
}

Lease::~Lease() { (void)Release(); }

Status Lease::Release() {
  payloads_.clear();
  locations_.clear();
  gpu_offsets_.clear();
  inline_bytes_.clear();
  if (!conn_ || lease_id_ == 0) return Status::Ok();
  wire::IdRequest req{std::exchange(lease_id_, 0)};
  ReplyBuffer fields;
  Status s = std::exchange(conn_, nullptr)->Call(MessageType::kRelease, EncodeBody(req), &fields);
  return s;
}

// ---- Reservation ----

Reservation::Reservation(Reservation&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)),
      reservation_id_(std::exchange(o.reservation_id_, 0)),
      ns_handle_(o.ns_handle_),
      payloads_(std::move(o.payloads_)),
      inline_bytes_(std::move(o.inline_bytes_)),
      inline_parent_(o.inline_parent_),
      inline_keys_(std::move(o.inline_keys_)),
      inline_tokens_(std::move(o.inline_tokens_)) {}

Reservation& Reservation::operator=(Reservation&& o) noexcept {
  if (this != &o) {
    (void)Abort();
    conn_ = std::exchange(o.conn_, nullptr);
    reservation_id_ = std::exchange(o.reservation_id_, 0);
    ns_handle_ = o.ns_handle_;
    payloads_ = std::move(o.payloads_);
    inline_bytes_ = std::move(o.inline_bytes_);
    inline_parent_ = o.inline_parent_;
    inline_keys_ = std::move(o.inline_keys_);
    inline_tokens_ = std::move(o.inline_tokens_);
  }
  return *this;
}

Reservation::~Reservation() { (void)Abort(); }

Status Reservation::Commit() {
  if (!conn_) return Status::InvalidArgument("reservation already committed or aborted");
  Connection* conn = std::exchange(conn_, nullptr);
  ReplyBuffer fields;
  if (!conn->local()) {
    // Remote: the bytes travel now, in one reserve-and-commit frame.
    wire::ReserveRequest req;
    req.ns_handle = ns_handle_;
    req.flags = wire::kFlagInline;
    Status s = CallWithChain(*conn, MessageType::kReserve, req, inline_parent_, inline_keys_,
                             inline_tokens_, inline_bytes_, &fields);
    payloads_.clear();
    inline_bytes_.clear();
    return s;
  }
  payloads_.clear();
  if (reservation_id_ == 0) return Status::Ok();  // every block was already stored
  wire::IdRequest req{std::exchange(reservation_id_, 0)};
  return conn->Call(MessageType::kCommit, EncodeBody(req), &fields);
}

Status Reservation::Abort() {
  payloads_.clear();
  inline_bytes_.clear();
  Connection* conn = std::exchange(conn_, nullptr);
  if (!conn || reservation_id_ == 0) return Status::Ok();
  wire::IdRequest req{std::exchange(reservation_id_, 0)};
  ReplyBuffer fields;
  return conn->Call(MessageType::kAbort, EncodeBody(req), &fields);
}

// ---- Client ----

Client::Client(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ConnectOptions& options) {
  TIERKV_ASSIGN_OR_RETURN(auto conn, Connection::Open(options));
  return std::unique_ptr<Client>(new Client(std::move(conn)));
}

bool Client::is_local() const { return conn_->local(); }

Span<std::byte> Client::shared_pool() const {
  if (!conn_->local()) return {};
  return {conn_->pool(), static_cast<size_t>(conn_->pool_bytes())};
}

Result<Namespace> Client::OpenNamespace(const NamespaceSpec& spec) {
  wire::OpenNamespaceRequest req;
  req.model_fingerprint = spec.model_fingerprint;
  req.tenant = spec.tenant;
  req.adapter_id = spec.adapter_id;
  req.kv_dtype = spec.kv_dtype;
  req.kv_layout = spec.kv_layout;
  req.block_tokens = spec.block_tokens;
  req.block_bytes = spec.block_bytes;
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(conn_->Call(MessageType::kOpenNamespace, EncodeBody(req), &fields));
  wire::OpenNamespaceReply reply;
  wire::Reader r(fields.fields());
  if (!wire::OpenNamespaceReply::Decode(r, &reply)) {
    return Status::ProtocolError("malformed open_namespace reply");
  }
  return Namespace{reply.id, reply.handle, reply.block_tokens, reply.block_bytes};
}

Result<LookupResult> Client::Lookup(const Namespace& ns, Span<const Key128> keys,
                                    Span<const TokenId> tokens,
                                    const LookupOptions& options) {
  TIERKV_RETURN_IF_ERROR(CheckTokens(ns, keys, tokens));
  wire::LookupRequest req;
  req.ns_handle = ns.handle;
  req.flags = options.prefetch ? wire::kFlagPrefetch : 0;
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(
      CallWithChain(*conn_, MessageType::kLookup, req, ns.id, keys, tokens, {}, &fields));
  wire::LookupReply reply;
  wire::Reader r(fields.fields());
  if (!wire::LookupReply::Decode(r, &reply)) return Status::ProtocolError("malformed lookup reply");
  LookupResult out;
  out.matched_blocks = static_cast<uint32_t>(reply.tiers.size());
  out.locations.reserve(reply.tiers.size());
  for (uint8_t t : reply.tiers) out.locations.push_back(static_cast<TierKind>(t));
  return out;
}

Result<Lease> Client::Acquire(const Namespace& ns, Span<const Key128> keys,
                              Span<const TokenId> tokens, uint32_t max_blocks,
                              const AcquireOptions& options) {
  TIERKV_RETURN_IF_ERROR(CheckTokens(ns, keys, tokens));
  wire::AcquireRequest req;
  req.ns_handle = ns.handle;
  req.flags = conn_->local() ? 0 : wire::kFlagInline;
  // Device memory is shared only with processes on this node.
  if (options.gpu && conn_->local()) req.flags |= wire::kFlagGpu;
  req.max_blocks = max_blocks;
  Lease lease;
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(
      CallWithChain(*conn_, MessageType::kAcquire, req, ns.id, keys, tokens, {}, &fields));
  wire::AcquireReply reply;
  wire::Reader r(fields.fields());
  if (!wire::AcquireReply::Decode(r, &reply)) return Status::ProtocolError("malformed acquire reply");
  const size_t n = reply.offsets.size();
  if (conn_->local()) {
    lease.conn_ = conn_.get();
    lease.lease_id_ = reply.lease_id;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t off = reply.offsets[i];
      const auto tier = static_cast<TierKind>(reply.tiers[i]);
      if (tier == TierKind::kGpu && (req.flags & wire::kFlagGpu)) {
        lease.locations_.push_back(TierKind::kGpu);
        lease.gpu_offsets_.push_back(off);
        lease.payloads_.emplace_back();
        continue;
      }
      if (tier != TierKind::kHost) {
        return Status::ProtocolError("daemon named tier " + std::to_string(reply.tiers[i]) +
                                     " for an acquired block");
      }
      if (off > conn_->pool_bytes() || ns.block_bytes > conn_->pool_bytes() - off) {
        return Status::ProtocolError("daemon returned an offset outside the pool");
      }
      lease.locations_.push_back(TierKind::kHost);
      lease.gpu_offsets_.push_back(0);
      lease.payloads_.emplace_back(conn_->pool() + off, ns.block_bytes);
    }
    return lease;
  }
  if (r.remaining() != n * ns.block_bytes) {
    return Status::ProtocolError("inline acquire reply has the wrong payload size");
  }
  auto bytes = r.Bytes(n * ns.block_bytes);
  lease.inline_bytes_.resize(bytes.size());
  if (!bytes.empty()) std::memcpy(lease.inline_bytes_.data(), bytes.data(), bytes.size());
  for (size_t i = 0; i < n; ++i) {
    lease.payloads_.emplace_back(lease.inline_bytes_.data() + i * ns.block_bytes, ns.block_bytes);
    lease.locations_.push_back(TierKind::kHost);
    lease.gpu_offsets_.push_back(0);
  }
  return lease;
}

Result<GpuPoolInfo> Client::GpuPool() {
  if (!conn_->local()) {
    return Status::Unsupported("the GPU tier is shared with local clients only (Unix socket)");
  }
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(conn_->Call(MessageType::kGpuPool, {}, &fields));
  wire::GpuPoolReply reply;
  wire::Reader r(fields.fields());
  if (!wire::GpuPoolReply::Decode(r, &reply)) {
    return Status::ProtocolError("malformed gpu_pool reply");
  }
  return GpuPoolInfo{reply.device, reply.pci_bus_id, reply.ipc_handle, reply.pool_bytes,
                     reply.description};
}

Result<Reservation> Client::Reserve(const Namespace& ns, const Key128& parent,
                                    Span<const Key128> keys, Span<const TokenId> tokens,
                                    const ReserveOptions& options) {
  TIERKV_RETURN_IF_ERROR(CheckTokens(ns, keys, tokens));
  Reservation res;
  res.conn_ = conn_.get();
  res.ns_handle_ = ns.handle;
  if (!conn_->local()) {
    // Remote: stage the bytes here; Commit sends them.
    res.inline_parent_ = parent;
    res.inline_keys_.assign(keys.begin(), keys.end());
    res.inline_tokens_.assign(tokens.begin(), tokens.end());
    res.inline_bytes_.resize(keys.size() * ns.block_bytes);
    for (size_t i = 0; i < keys.size(); ++i) {
      res.payloads_.emplace_back(res.inline_bytes_.data() + i * ns.block_bytes, ns.block_bytes);
    }
    return res;
  }
  wire::ReserveRequest req;
  req.ns_handle = ns.handle;
  req.flags = options.gpu ? wire::kFlagGpu : 0;
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(
      CallWithChain(*conn_, MessageType::kReserve, req, parent, keys, tokens, {}, &fields));
  wire::ReserveReply reply;
  wire::Reader r(fields.fields());
  if (!wire::ReserveReply::Decode(r, &reply) || reply.offsets.size() != keys.size()) {
    return Status::ProtocolError("malformed reserve reply");
  }
  res.reservation_id_ = reply.reservation_id;
  for (uint64_t off : reply.offsets) {
    if (off == wire::kNoSlot) {
      res.payloads_.emplace_back();
      continue;
    }
    if (off > conn_->pool_bytes() || ns.block_bytes > conn_->pool_bytes() - off) {
      return Status::ProtocolError("daemon returned an offset outside the pool");
    }
    res.payloads_.emplace_back(conn_->pool() + off, ns.block_bytes);
  }
  return res;
}

Status Client::Put(const Namespace& ns, const Key128& parent, Span<const Key128> keys,
                   Span<const TokenId> tokens, Span<const std::byte> payload) {
  if (payload.size() != keys.size() * ns.block_bytes) {
    return Status::InvalidArgument("payload holds " + std::to_string(payload.size()) +
                                   " bytes, want " + std::to_string(keys.size() * ns.block_bytes));
  }
  TIERKV_ASSIGN_OR_RETURN(Reservation res, Reserve(ns, parent, keys, tokens));
  for (size_t i = 0; i < res.size(); ++i) {
    std::span<std::byte> dst = res.payload(i);
    if (!dst.empty()) std::memcpy(dst.data(), payload.data() + i * ns.block_bytes, dst.size());
  }
  return res.Commit();
}

Result<uint32_t> Client::Get(const Namespace& ns, Span<const Key128> keys,
                             Span<const TokenId> tokens, Span<std::byte> out) {
  if (!keys.empty() && out.size() / keys.size() < ns.block_bytes) {
    return Status::InvalidArgument("a buffer of " + std::to_string(out.size()) +
                                   " bytes cannot hold " + std::to_string(keys.size()) +
                                   " blocks of " + std::to_string(ns.block_bytes) + " bytes");
  }
  const auto max_blocks = static_cast<uint32_t>(keys.size());
  TIERKV_ASSIGN_OR_RETURN(Lease lease, Acquire(ns, keys, tokens, max_blocks));
  for (size_t i = 0; i < lease.size(); ++i) {
    std::memcpy(out.data() + i * ns.block_bytes, lease.payload(i).data(), ns.block_bytes);
  }
  const auto n = static_cast<uint32_t>(lease.size());
  TIERKV_RETURN_IF_ERROR(lease.Release());
  return n;
}

Result<Stats> Client::GetStats() {
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(conn_->Call(MessageType::kStats, {}, &fields));
  wire::TextReply reply;
  wire::Reader r(fields.fields());
  if (!wire::TextReply::Decode(r, &reply)) return Status::ProtocolError("malformed stats reply");
  return wire::DecodeStats(reply.text);
}

Result<uint64_t> Client::Evict(const Namespace* ns) {
  wire::EvictRequest req;
  req.all = ns == nullptr;
  req.ns_handle = ns ? ns->handle : 0;
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(conn_->Call(MessageType::kEvict, EncodeBody(req), &fields));
  wire::CountReply reply;
  wire::Reader r(fields.fields());
  if (!wire::CountReply::Decode(r, &reply)) return Status::ProtocolError("malformed evict reply");
  return reply.count;
}

Result<uint64_t> Client::Flush() {
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(conn_->Call(MessageType::kFlush, {}, &fields));
  wire::CountReply reply;
  wire::Reader r(fields.fields());
  if (!wire::CountReply::Decode(r, &reply)) return Status::ProtocolError("malformed flush reply");
  return reply.count;
}

Result<Health> Client::GetHealth() {
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(conn_->Call(MessageType::kHealth, {}, &fields));
  wire::HealthReply reply;
  wire::Reader r(fields.fields());
  if (!wire::HealthReply::Decode(r, &reply)) return Status::ProtocolError("malformed health reply");
  return Health{reply.ok != 0, reply.version, reply.detail};
}

}  // namespace tierkv
