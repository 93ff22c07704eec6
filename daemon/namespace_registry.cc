#include "daemon/namespace_registry.h"

#include <spdlog/spdlog.h>
#include <xxhash.h>

#include "daemon/auth.h"
#include "tierkv/namespace_spec.h"

namespace tierkv {

NamespaceRegistry::NamespaceRegistry(std::string secret,
                                     std::map<std::string, std::string> tenant_tokens,
                                     uint64_t max_block_bytes)
    : secret_(std::move(secret)),
      tenant_tokens_(std::move(tenant_tokens)),
      max_block_bytes_(max_block_bytes) {}

Key128 NamespaceRegistry::IdFor(const wire::OpenNamespaceRequest& spec) const {
  std::vector<uint8_t> bytes;
  wire::Writer w(&bytes);
  spec.Encode(w);
  w.Str(secret_);
  XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return Key128{h.low64, h.high64};
}

Result<NamespaceInfo*> NamespaceRegistry::Open(const wire::OpenNamespaceRequest& spec,
                                               const Credentials& creds) {
  if (spec.model_fingerprint.empty()) {
    return Status::InvalidArgument("namespace needs a model fingerprint");
  }
  if (spec.tenant.empty()) return Status::InvalidArgument("namespace needs a tenant");
  if (!IsKnownKvDtype(spec.kv_dtype)) {
    return Status::InvalidArgument("unknown kv_dtype '" + spec.kv_dtype +
                                   "' (known: " + KnownKvDtypeList() + ")");
  }
  if (spec.block_tokens == 0 || spec.block_tokens > wire::kMaxBlockTokens) {
    return Status::InvalidArgument("block_tokens must be 1.." +
                                   std::to_string(wire::kMaxBlockTokens));
  }
  if (spec.block_bytes == 0 || spec.block_bytes > max_block_bytes_) {
    return Status::InvalidArgument("block_bytes must be 1.." + std::to_string(max_block_bytes_) +
                                   " on this daemon, got " + std::to_string(spec.block_bytes));
  }
  auto token = tenant_tokens_.find(spec.tenant);
  if (token != tenant_tokens_.end() && !ConstantTimeEquals(creds.tenant_token, token->second)) {
    return Status::PermissionDenied("credentials do not allow tenant '" + spec.tenant + "'");
  }
  if (NamespaceInfo* existing = FindById(IdFor(spec))) return existing;
  NamespaceInfo* added = Add(spec);
  if (catalog_) {
    // The catalog only names restored blocks; serving goes on without it.
    if (Status s = catalog_->Append(spec); !s.ok()) {
      spdlog::warn("namespace catalog: {}", s.ToString());
    }
  }
  return added;
}

NamespaceInfo* NamespaceRegistry::Add(const wire::OpenNamespaceRequest& spec) {
  auto info = std::make_unique<NamespaceInfo>();
  info->id = IdFor(spec);
  info->handle = static_cast<uint32_t>(namespaces_.size() + 1);
  info->spec = spec;
  namespaces_.push_back(std::move(info));
  return namespaces_.back().get();
}

void NamespaceRegistry::AttachCatalog(NamespaceCatalog* catalog,
                                      std::span<const wire::OpenNamespaceRequest> recorded) {
  for (const auto& spec : recorded) {
    if (!FindById(IdFor(spec))) Add(spec);
  }
  catalog_ = catalog;
}

NamespaceInfo* NamespaceRegistry::Find(uint32_t handle) const {
  if (handle == 0 || handle > namespaces_.size()) return nullptr;
  return namespaces_[handle - 1].get();
}

NamespaceInfo* NamespaceRegistry::FindById(const Key128& id) const {
  for (const auto& ns : namespaces_) {
    if (ns->id == id) return ns.get();
  }
  return nullptr;
}

}  // namespace tierkv
