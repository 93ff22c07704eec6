// The C ABI over the C++ client (tierkv/tierkv.h).
#include "tierkv/tierkv.h"

#include <cstring>
#include <string>

#include "tierkv/client.h"

struct tierkv_client {
  std::unique_ptr<tierkv::Client> client;
};

struct tierkv_lease {
  tierkv::Lease lease;
};

namespace {

thread_local std::string last_error;

tierkv_status Report(const tierkv::Status& s) {
  last_error = s.ok() ? "" : s.ToString();
  return static_cast<tierkv_status>(s.code());
}

tierkv::Namespace ToNamespace(const tierkv_namespace* ns) {
  return tierkv::Namespace{{ns->id.lo, ns->id.hi}, ns->handle, ns->block_tokens, ns->block_bytes};
}

std::span<const tierkv::Key128> Keys(const tierkv_key* keys, size_t n) {
  static_assert(sizeof(tierkv_key) == sizeof(tierkv::Key128));
  return {reinterpret_cast<const tierkv::Key128*>(keys), n};
}

// A chain's keys and tokens must be there when it has blocks.
bool ValidChain(const tierkv_key* keys, size_t n_keys, const uint32_t* tokens) {
  return n_keys == 0 || (keys != nullptr && tokens != nullptr);
}

}  // namespace

extern "C" {

const char* tierkv_last_error(void) { return last_error.c_str(); }

tierkv_status tierkv_connect(const char* address, tierkv_client** out) {
  if (!address || !out) return Report(tierkv::Status::InvalidArgument("null argument"));
  tierkv::ConnectOptions options;
  options.address = address;
  auto client = tierkv::Client::Connect(options);
  if (!client.ok()) return Report(client.status());
  *out = new tierkv_client{std::move(client).value()};
  return Report(tierkv::Status::Ok());
}

void tierkv_close(tierkv_client* client) { delete client; }

tierkv_status tierkv_open_namespace(tierkv_client* client, const char* model_fingerprint,
                                    const char* tenant, const char* kv_dtype,
                                    uint32_t block_tokens, uint64_t block_bytes,
                                    tierkv_namespace* out) {
  if (!client || !model_fingerprint || !out) {
    return Report(tierkv::Status::InvalidArgument("null argument"));
  }
  tierkv::NamespaceSpec spec;
  spec.model_fingerprint = model_fingerprint;
  if (tenant) spec.tenant = tenant;
  if (kv_dtype) spec.kv_dtype = kv_dtype;
  spec.block_tokens = block_tokens;
  spec.block_bytes = block_bytes;
  auto ns = client->client->OpenNamespace(spec);
  if (!ns.ok()) return Report(ns.status());
  *out = tierkv_namespace{{ns->id.lo, ns->id.hi}, ns->handle, ns->block_tokens, ns->block_bytes};
  return Report(tierkv::Status::Ok());
}

size_t tierkv_chain_keys(const tierkv_namespace* ns, const uint32_t* tokens, size_t n_tokens,
                         tierkv_key* keys, size_t max_keys) {
  if (!ns || (!tokens && n_tokens) || ns->block_tokens == 0) return 0;
  auto chain = tierkv::ChainBlockKeys({ns->id.lo, ns->id.hi}, {tokens, n_tokens},
                                      ns->block_tokens);
  const size_t n = std::min(chain.size(), max_keys);
  for (size_t i = 0; i < n; ++i) keys[i] = tierkv_key{chain[i].lo, chain[i].hi};
  return n;
}

tierkv_status tierkv_lookup(tierkv_client* client, const tierkv_namespace* ns,
                            const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                            int prefetch, uint32_t* matched_blocks) {
  if (!client || !ns || !matched_blocks || !ValidChain(keys, n_keys, tokens)) {
    return Report(tierkv::Status::InvalidArgument("null argument"));
  }
  auto r = client->client->Lookup(ToNamespace(ns), Keys(keys, n_keys),
                                  {tokens, n_keys * ns->block_tokens}, {prefetch != 0});
  if (!r.ok()) return Report(r.status());
  *matched_blocks = r->matched_blocks;
  return Report(tierkv::Status::Ok());
}

tierkv_status tierkv_get(tierkv_client* client, const tierkv_namespace* ns,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens, void* out,
                         size_t out_bytes, uint32_t* blocks_copied) {
  if (!client || !ns || !blocks_copied || (!out && out_bytes) ||
      !ValidChain(keys, n_keys, tokens)) {
    return Report(tierkv::Status::InvalidArgument("null argument"));
  }
  auto r = client->client->Get(ToNamespace(ns), Keys(keys, n_keys),
                               {tokens, n_keys * ns->block_tokens},
                               {static_cast<std::byte*>(out), out_bytes});
  if (!r.ok()) return Report(r.status());
  *blocks_copied = *r;
  return Report(tierkv::Status::Ok());
}

tierkv_status tierkv_put(tierkv_client* client, const tierkv_namespace* ns, tierkv_key parent,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                         const void* payload, size_t payload_bytes) {
  if (!client || !ns || (!payload && payload_bytes) || !ValidChain(keys, n_keys, tokens)) {
    return Report(tierkv::Status::InvalidArgument("null argument"));
  }
  return Report(client->client->Put(ToNamespace(ns), {parent.lo, parent.hi}, Keys(keys, n_keys),
                                    {tokens, n_keys * ns->block_tokens},
                                    {static_cast<const std::byte*>(payload), payload_bytes}));
}

tierkv_status tierkv_acquire(tierkv_client* client, const tierkv_namespace* ns,
                             const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                             uint32_t max_blocks, int flags, tierkv_lease** out) {
  if (!client || !ns || !out || !ValidChain(keys, n_keys, tokens)) {
    return Report(tierkv::Status::InvalidArgument("null argument"));
  }
  if (flags & ~TIERKV_ACQUIRE_GPU) {
    return Report(tierkv::Status::InvalidArgument("unknown acquire flags"));
  }
  auto lease = client->client->Acquire(ToNamespace(ns), Keys(keys, n_keys),
                                       {tokens, n_keys * ns->block_tokens}, max_blocks,
                                       {.gpu = (flags & TIERKV_ACQUIRE_GPU) != 0});
  if (!lease.ok()) return Report(lease.status());
  *out = new tierkv_lease{std::move(lease).value()};
  return Report(tierkv::Status::Ok());
}

size_t tierkv_lease_size(const tierkv_lease* lease) { return lease ? lease->lease.size() : 0; }

tierkv_status tierkv_lease_block(const tierkv_lease* lease, size_t i, int* tier,
                                 const void** host_bytes, uint64_t* gpu_offset) {
  if (!lease) return Report(tierkv::Status::InvalidArgument("null argument"));
  if (i >= lease->lease.size()) {
    return Report(tierkv::Status::InvalidArgument(
        "block " + std::to_string(i) + " of a lease of " + std::to_string(lease->lease.size())));
  }
  const bool on_gpu = lease->lease.location(i) == tierkv::TierKind::kGpu;
  if (tier) *tier = on_gpu ? TIERKV_TIER_GPU : TIERKV_TIER_HOST;
  if (host_bytes) *host_bytes = on_gpu ? nullptr : lease->lease.payload(i).data();
  if (gpu_offset) *gpu_offset = lease->lease.gpu_offset(i);
  return Report(tierkv::Status::Ok());
}

void tierkv_release(tierkv_lease* lease) { delete lease; }

tierkv_status tierkv_gpu_pool_info(tierkv_client* client, tierkv_gpu_pool* out) {
  if (!client || !out) return Report(tierkv::Status::InvalidArgument("null argument"));
  auto pool = client->client->GpuPool();
  if (!pool.ok()) return Report(pool.status());
  if (pool->ipc_handle.size() != sizeof out->ipc_handle ||
      pool->pci_bus_id.size() >= sizeof out->pci_bus_id) {
    return Report(tierkv::Status::ProtocolError("daemon sent a GPU pool handle of another size"));
  }
  std::memset(out, 0, sizeof *out);
  out->device = pool->device;
  std::memcpy(out->pci_bus_id, pool->pci_bus_id.data(), pool->pci_bus_id.size());
  std::memcpy(out->ipc_handle, pool->ipc_handle.data(), pool->ipc_handle.size());
  out->pool_bytes = pool->pool_bytes;
  return Report(tierkv::Status::Ok());
}

}  // extern "C"
