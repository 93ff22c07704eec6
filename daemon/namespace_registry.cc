#include "daemon/namespace_registry.h"

#include <spdlog/spdlog.h>
#include <xxhash.h>

#include "daemon/auth.h"
#include "tierkv/namespace_spec.h"

namespace tierkv {

NamespaceRegistry::NamespaceRegistry(std::string secret,
                                     std::map<std::string, std::string> tenant_tokens,
                                     uint64_t max_block_bytes, NamespaceLimits limits)
    : secret_(std::move(secret)),
      tenant_tokens_(std::move(tenant_tokens)),
      max_block_bytes_(max_block_bytes),
      limits_(limits) {}

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
  TIERKV_RETURN_IF_ERROR(CheckRoomFor(spec.tenant));
  NamespaceInfo* added = Add(spec);
  if (catalog_) {
    // The catalog only names restored blocks; serving goes on without it.
    if (Status s = catalog_->Append(spec); !s.ok()) {
      spdlog::warn("namespace catalog: {}", s.ToString());
    }
  }
  return added;
}

Status NamespaceRegistry::CheckRoomFor(const std::string& tenant) const {
  if (namespaces_.size() >= limits_.total) {
    return Status::ResourceExhausted("this daemon has " + std::to_string(namespaces_.size()) +
                                     " namespaces, its limit (max_namespaces); an open "
                                     "namespace may still be opened again");
  }
  auto it = per_tenant_.find(tenant);
  const uint64_t held = it == per_tenant_.end() ? 0 : it->second;
  if (held >= limits_.per_tenant) {
    // A tenant name is at most a wire name (1 KiB): the message stays short.
    constexpr size_t kShownTenantBytes = 64;
    const std::string shown =
        tenant.size() > kShownTenantBytes ? tenant.substr(0, kShownTenantBytes) + "..." : tenant;
    return Status::ResourceExhausted("tenant '" + shown + "' has " + std::to_string(held) +
                                     " namespaces, the most one tenant may have "
                                     "(max_namespaces_per_tenant); an open namespace may still "
                                     "be opened again");
  }
  return Status::Ok();
}

NamespaceInfo* NamespaceRegistry::Add(const wire::OpenNamespaceRequest& spec) {
  auto info = std::make_unique<NamespaceInfo>();
  info->id = IdFor(spec);
  info->handle = static_cast<uint32_t>(namespaces_.size() + 1);
  info->spec = spec;
  ++per_tenant_[spec.tenant];
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
