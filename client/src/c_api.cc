// The C ABI over the C++ client (tierkv/tierkv.h).
#include "tierkv/tierkv.h"

#include <cstring>
#include <string>

#include "tierkv/client.h"

struct tierkv_client {
  std::unique_ptr<tierkv::Client> client;
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
  if (!client || !ns || !matched_blocks) {
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
  if (!client || !ns || !blocks_copied || (!out && out_bytes)) {
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
  if (!client || !ns || (!payload && payload_bytes)) {
    return Report(tierkv::Status::InvalidArgument("null argument"));
  }
  return Report(client->client->Put(ToNamespace(ns), {parent.lo, parent.hi}, Keys(keys, n_keys),
                                    {tokens, n_keys * ns->block_tokens},
                                    {static_cast<const std::byte*>(payload), payload_bytes}));
}

}  // extern "C"
