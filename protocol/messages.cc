#include "protocol/messages.h"

#include "protocol/status_codes.h"

namespace tierkv::wire {
namespace {

constexpr size_t kMaxStatsBytes = 64u << 20;
constexpr size_t kMaxStatusMessageBytes = 64u << 10;

}  // namespace

void HelloRequest::Encode(Writer& w) const {
  w.U16(min_version);
  w.U16(max_version);
  w.Str(client_name);
  w.Str(tenant_token);
  w.Str(admin_token);
}

bool HelloRequest::Decode(Reader& r, HelloRequest* out) {
  out->min_version = r.U16();
  out->max_version = r.U16();
  out->client_name = r.Str(kMaxNameBytes);
  out->tenant_token = r.Str(kMaxNameBytes);
  out->admin_token = r.Str(kMaxNameBytes);
  return r.done();
}

void HelloReply::Encode(Writer& w) const {
  w.U16(version);
  w.Str(server_version);
  w.U8(pool_fd_attached);
  w.U64(pool_bytes);
}

bool HelloReply::Decode(Reader& r, HelloReply* out) {
  out->version = r.U16();
  out->server_version = r.Str(kMaxNameBytes);
  out->pool_fd_attached = r.U8();
  out->pool_bytes = r.U64();
  return r.done();
}

void OpenNamespaceRequest::Encode(Writer& w) const {
  w.Str(model_fingerprint);
  w.Str(tenant);
  w.Str(adapter_id);
  w.Str(kv_dtype);
  w.Str(kv_layout);
  w.U32(block_tokens);
  w.U64(block_bytes);
}

bool OpenNamespaceRequest::Decode(Reader& r, OpenNamespaceRequest* out) {
  out->model_fingerprint = r.Str(kMaxNameBytes);
  out->tenant = r.Str(kMaxNameBytes);
  out->adapter_id = r.Str(kMaxNameBytes);
  out->kv_dtype = r.Str(kMaxNameBytes);
  out->kv_layout = r.Str(kMaxNameBytes);
  out->block_tokens = r.U32();
  out->block_bytes = r.U64();
  return r.done();
}

void OpenNamespaceReply::Encode(Writer& w) const {
  w.Key(id);
  w.U32(handle);
  w.U32(block_tokens);
  w.U64(block_bytes);
}

bool OpenNamespaceReply::Decode(Reader& r, OpenNamespaceReply* out) {
  out->id = r.Key();
  out->handle = r.U32();
  out->block_tokens = r.U32();
  out->block_bytes = r.U64();
  return r.done();
}

void EncodeChainHead(Writer& w, const Key128& parent, uint32_t blocks, uint32_t block_tokens) {
  w.Key(parent);
  w.U32(blocks);
  w.U32(block_tokens);
}

void BlockChain::Encode(Writer& w) const {
  EncodeChainHead(w, parent, static_cast<uint32_t>(keys.size()),
                  keys.empty() ? 0 : static_cast<uint32_t>(tokens.size() / keys.size()));
  const auto key_bytes = KeyBytes(keys);
  const auto token_bytes = TokenBytes(tokens);
  w.Raw(key_bytes.data(), key_bytes.size());
  w.Raw(token_bytes.data(), token_bytes.size());
}

bool BlockChain::Decode(Reader& r, BlockChain* out) {
  out->parent = r.Key();
  const uint32_t n = r.U32();
  const uint32_t block_tokens = r.U32();
  if (!r.ok() || n > kMaxBlocksPerRequest || block_tokens > kMaxBlockTokens) return false;
  if (n > 0 && block_tokens == 0) return false;
  const uint64_t token_bytes = uint64_t{n} * block_tokens * sizeof(TokenId);
  if (uint64_t{n} * sizeof(Key128) + token_bytes > r.remaining()) return false;
  out->keys.resize(n);
  r.Raw(out->keys.data(), size_t{n} * sizeof(Key128));
  out->tokens.resize(size_t{n} * block_tokens);
  r.Raw(out->tokens.data(), token_bytes);
  return r.ok();
}

void LookupRequest::EncodeFields(Writer& w) const {
  w.U32(ns_handle);
  w.U8(flags);
}

void LookupRequest::Encode(Writer& w) const {
  EncodeFields(w);
  chain.Encode(w);
}

bool LookupRequest::Decode(Reader& r, LookupRequest* out) {
  out->ns_handle = r.U32();
  out->flags = r.U8();
  return BlockChain::Decode(r, &out->chain) && r.done();
}

void LookupReply::Encode(Writer& w) const {
  w.U32(static_cast<uint32_t>(tiers.size()));
  w.Raw(tiers.data(), tiers.size());
}

bool LookupReply::Decode(Reader& r, LookupReply* out) {
  const uint32_t n = r.U32();
  auto b = r.Bytes(n);
  out->tiers.assign(b.begin(), b.end());
  return r.done();
}

void AcquireRequest::EncodeFields(Writer& w) const {
  w.U32(ns_handle);
  w.U8(flags);
  w.U32(max_blocks);
}

void AcquireRequest::Encode(Writer& w) const {
  EncodeFields(w);
  chain.Encode(w);
}

bool AcquireRequest::Decode(Reader& r, AcquireRequest* out) {
  out->ns_handle = r.U32();
  out->flags = r.U8();
  out->max_blocks = r.U32();
  return BlockChain::Decode(r, &out->chain) && r.done();
}

void AcquireReply::Encode(Writer& w) const {
  w.U64(lease_id);
  w.U32(static_cast<uint32_t>(offsets.size()));
  for (size_t i = 0; i < offsets.size(); ++i) {
    w.U64(offsets[i]);
    w.U8(tiers[i]);
  }
}

bool AcquireReply::Decode(Reader& r, AcquireReply* out) {
  out->lease_id = r.U64();
  const uint32_t n = r.U32();
  if (!r.ok() || n > kMaxBlocksPerRequest || size_t{n} * 9 > r.remaining()) return false;
  out->offsets.resize(n);
  out->tiers.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    out->offsets[i] = r.U64();
    out->tiers[i] = r.U8();
  }
  return r.ok();  // inline payload bytes may follow
}

void GpuPoolReply::Encode(Writer& w) const {
  w.U32(static_cast<uint32_t>(device));
  w.Str(pci_bus_id);
  w.Str(ipc_handle);
  w.U64(pool_bytes);
  w.Str(description);
}

bool GpuPoolReply::Decode(Reader& r, GpuPoolReply* out) {
  out->device = static_cast<int32_t>(r.U32());
  out->pci_bus_id = r.Str(kMaxNameBytes);
  out->ipc_handle = r.Str(kMaxNameBytes);
  out->pool_bytes = r.U64();
  out->description = r.Str(kMaxNameBytes);
  return r.done();
}

void ReserveRequest::EncodeFields(Writer& w) const {
  w.U32(ns_handle);
  w.U8(flags);
}

void ReserveRequest::Encode(Writer& w) const {
  EncodeFields(w);
  chain.Encode(w);
}

bool ReserveRequest::Decode(Reader& r, ReserveRequest* out) {
  out->ns_handle = r.U32();
  out->flags = r.U8();
  return BlockChain::Decode(r, &out->chain);  // inline payload bytes may follow
}

void ReserveReply::Encode(Writer& w) const {
  w.U64(reservation_id);
  w.U32(static_cast<uint32_t>(offsets.size()));
  for (uint64_t o : offsets) w.U64(o);
}

bool ReserveReply::Decode(Reader& r, ReserveReply* out) {
  out->reservation_id = r.U64();
  const uint32_t n = r.U32();
  if (!r.ok() || n > kMaxBlocksPerRequest || size_t{n} * 8 > r.remaining()) return false;
  out->offsets.resize(n);
  for (uint64_t& o : out->offsets) o = r.U64();
  return r.done();
}

void EvictRequest::Encode(Writer& w) const {
  w.U8(all);
  w.U32(ns_handle);
}

bool EvictRequest::Decode(Reader& r, EvictRequest* out) {
  out->all = r.U8();
  out->ns_handle = r.U32();
  return r.done();
}

bool TextReply::Decode(Reader& r, TextReply* out) {
  out->text = r.Str(kMaxStatsBytes);
  return r.done();
}

void HealthReply::Encode(Writer& w) const {
  w.U8(ok);
  w.Str(version);
  w.Str(detail);
}

bool HealthReply::Decode(Reader& r, HealthReply* out) {
  out->ok = r.U8();
  out->version = r.Str(kMaxNameBytes);
  out->detail = r.Str(kMaxStatusMessageBytes);
  return r.done();
}

void EncodeStatus(Writer& w, const Status& s) {
  w.U16(StatusToWire(s.code()));
  w.Str(s.message());
}

Status DecodeStatus(Reader& r) {
  const uint16_t code = r.U16();
  std::string message = r.Str(kMaxStatusMessageBytes);
  if (!r.ok()) return Status::ProtocolError("truncated reply status");
  return Status(WireToStatusCode(code), message);
}

}  // namespace tierkv::wire
