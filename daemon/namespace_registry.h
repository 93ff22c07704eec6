// The namespaces the daemon knows: what must match for blocks to be shared.
//
// A namespace id is XXH3-128 over the canonical encoding of its spec and the
// daemon's secret, so ids are stable across restarts (the secret lives in the
// data directory) but cannot be guessed by a client: two tenants' chains never
// meet even for identical tokens. Handles are small per-daemon integers used
// on the wire; they are never reused while the daemon runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "daemon/namespace_catalog.h"
#include "protocol/messages.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv {

struct NamespaceInfo {
  Key128 id;
  uint32_t handle = 0;
  wire::OpenNamespaceRequest spec;
};

// How many namespaces may exist (issue 11): namespaces are never closed
// while the daemon runs and are recorded in its data dir, so without a bound
// a client could grow the daemon's memory and `stats` without end.
struct NamespaceLimits {
  static constexpr uint64_t kDefaultPerTenant = 256;
  static constexpr uint64_t kDefaultTotal = 4096;
  uint64_t per_tenant = kDefaultPerTenant;  // max_namespaces_per_tenant
  uint64_t total = kDefaultTotal;           // max_namespaces
};

// Who a connection is: what its hello's tokens proved.
struct Credentials {
  std::string tenant_token;
  bool admin = false;
};

class NamespaceRegistry {
 public:
  // `tenant_tokens` maps tenant name -> token; tenants not listed there (the
  // "default" tenant, for one) need no token.
  NamespaceRegistry(std::string secret, std::map<std::string, std::string> tenant_tokens,
                    uint64_t max_block_bytes, NamespaceLimits limits = {});

  // Validates the spec, checks the tenant's credentials, and returns the
  // namespace (the same one for the same spec). A namespace new to the
  // catalog (when one is attached) is recorded there. A new namespace beyond
  // the limits is refused (ResourceExhausted naming the key); opening one
  // that exists is never refused for them.
  Result<NamespaceInfo*> Open(const wire::OpenNamespaceRequest& spec, const Credentials& creds);

  // Registers the namespaces an earlier run recorded in `catalog` (blocks
  // restored from NVMe belong to them) and records new ones there from now
  // on. Not owned; it must outlive the registry. Recorded namespaces count
  // against the limits but are all registered, even beyond them.
  void AttachCatalog(NamespaceCatalog* catalog,
                     std::span<const wire::OpenNamespaceRequest> recorded);
  // The namespace with this handle, or nullptr.
  NamespaceInfo* Find(uint32_t handle) const;
  NamespaceInfo* FindById(const Key128& id) const;
  const std::vector<std::unique_ptr<NamespaceInfo>>& all() const { return namespaces_; }

  // The id a spec gets (exposed for tests and for restoring persisted blocks).
  Key128 IdFor(const wire::OpenNamespaceRequest& spec) const;

 private:
  std::string secret_;
  std::map<std::string, std::string> tenant_tokens_;
  uint64_t max_block_bytes_;
  NamespaceLimits limits_;
  NamespaceInfo* Add(const wire::OpenNamespaceRequest& spec);
  Status CheckRoomFor(const std::string& tenant) const;

  std::vector<std::unique_ptr<NamespaceInfo>> namespaces_;  // handle = index + 1
  NamespaceCatalog* catalog_ = nullptr;
  std::map<std::string, uint64_t, std::less<>> per_tenant_;  // namespaces of each tenant
};

}  // namespace tierkv
