// The C ABI over the C++ client (tierkv/tierkv.h).
//
// Every entry point checks its arguments, calls tierkv::Client, and reports
// through Report(), which keeps the message for tierkv_last_error on this
// thread. A client tracks its open leases and reservations so that
// tierkv_close can end them while the connection they need still exists.
#include "tierkv/tierkv.h"

#include <cstring>
#include <mutex>
#include <string>
#include <unordered_set>

#include "protocol/messages.h"
#include "tierkv/client.h"

struct tierkv_client {
  std::unique_ptr<tierkv::Client> client;
  std::string tenant;  // of namespaces opened with a NULL tenant
  std::mutex mu;       // guards the two sets
  std::unordered_set<tierkv_lease*> leases;
  std::unordered_set<tierkv_reservation*> reservations;
};

struct tierkv_lease {
  tierkv::Lease lease;
  tierkv_client* owner;  // null once tierkv_close ended the lease
};

struct tierkv_reservation {
  tierkv::Reservation reservation;
  tierkv_client* owner;  // null once tierkv_close aborted it
};

namespace {

using tierkv::Status;

static_assert(TIERKV_MAX_BLOCKS_PER_CALL == tierkv::wire::kMaxBlocksPerRequest);
static_assert(sizeof(tierkv_key) == sizeof(tierkv::Key128));
static_assert(TIERKV_TIER_GPU == static_cast<int>(tierkv::TierKind::kGpu) &&
              TIERKV_TIER_HOST == static_cast<int>(tierkv::TierKind::kHost) &&
              TIERKV_TIER_NVME == static_cast<int>(tierkv::TierKind::kNvme) &&
              TIERKV_TIER_REMOTE == static_cast<int>(tierkv::TierKind::kRemote));
static_assert(TIERKV_UNSUPPORTED == static_cast<int>(tierkv::StatusCode::kUnsupported));

constexpr int kDefaultTimeoutMs = 10000;
constexpr char kDefaultAddress[] = "/tmp/tierkv.sock";
constexpr char kDefaultTenant[] = "default";

thread_local std::string last_error;

tierkv_status Report(const Status& s) {
  if (s.ok()) {
    last_error.clear();
  } else {
    last_error = s.ToString();
  }
  return static_cast<tierkv_status>(s.code());
}

tierkv_status Ok() { return Report(Status::Ok()); }

tierkv_status NullArgument(const char* function, const char* argument) {
  return Report(Status::InvalidArgument(std::string(function) + ": " + argument + " is NULL"));
}

#define TIERKV_REQUIRE(function, argument) \
  if ((argument) == nullptr) return NullArgument(function, #argument)

tierkv::Namespace ToNamespace(const tierkv_namespace* ns) {
  return tierkv::Namespace{{ns->id.lo, ns->id.hi}, ns->handle, ns->block_tokens, ns->block_bytes};
}

tierkv::Span<const tierkv::Key128> Keys(const tierkv_key* keys, size_t n) {
  return {reinterpret_cast<const tierkv::Key128*>(keys), n};
}

// A chain of n_keys blocks: its keys and tokens are there when it has blocks,
// and it fits one request.
tierkv_status CheckChain(const char* function, const tierkv_namespace* ns,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens) {
  if (n_keys > TIERKV_MAX_BLOCKS_PER_CALL) {
    return Report(Status::InvalidArgument(std::string(function) + ": " + std::to_string(n_keys) +
                                          " blocks, at most " +
                                          std::to_string(TIERKV_MAX_BLOCKS_PER_CALL) +
                                          " per call"));
  }
  if (n_keys > 0 && keys == nullptr) return NullArgument(function, "keys");
  if (n_keys > 0 && tokens == nullptr) return NullArgument(function, "tokens");
  return TIERKV_OK;
}

tierkv::Span<const tierkv::TokenId> Tokens(const tierkv_namespace* ns, const uint32_t* tokens,
                                           size_t n_keys) {
  return {tokens, n_keys * ns->block_tokens};
}

// Copies `text` with its NUL into `out` of `size` bytes, or says it does not fit.
Status CopyText(const std::string& text, char* out, size_t size, const char* what) {
  if (text.size() + 1 > size) {
    return Status::ProtocolError(std::string("daemon's ") + what + " is " +
                                 std::to_string(text.size()) + " bytes, more than the " +
                                 std::to_string(size - 1) + " it may have");
  }
  std::memcpy(out, text.c_str(), text.size() + 1);
  return Status::Ok();
}

}  // namespace

extern "C" {

const char* tierkv_last_error(void) { return last_error.c_str(); }

const char* tierkv_status_name(tierkv_status status) {
  if (status < TIERKV_OK || status > TIERKV_UNSUPPORTED) return "unknown";
  // StatusCodeName returns views of string literals, so data() is NUL-terminated.
  return tierkv::StatusCodeName(static_cast<tierkv::StatusCode>(status)).data();
}

const char* tierkv_version(void) { return TIERKV_VERSION_STRING; }

void tierkv_connect_options_init(tierkv_connect_options* options) {
  if (!options) return;
  *options = tierkv_connect_options{};
  options->address = kDefaultAddress;
  options->tenant = kDefaultTenant;
  options->timeout_ms = kDefaultTimeoutMs;
}

tierkv_status tierkv_connect_with(const tierkv_connect_options* options, tierkv_client** out) {
  TIERKV_REQUIRE("tierkv_connect_with", options);
  TIERKV_REQUIRE("tierkv_connect_with", out);
  TIERKV_REQUIRE("tierkv_connect_with", options->address);
  if (options->timeout_ms < 0) {
    return Report(Status::InvalidArgument("tierkv_connect_with: timeout_ms must be >= 0, got " +
                                          std::to_string(options->timeout_ms)));
  }
  tierkv::ConnectOptions o;
  o.address = options->address;
  if (options->tenant_token) o.tenant_token = options->tenant_token;
  if (options->admin_token) o.admin_token = options->admin_token;
  o.timeout_ms = options->timeout_ms;
  o.touch_pool = options->touch_pool != 0;
  auto client = tierkv::Client::Connect(o);
  if (!client.ok()) return Report(client.status());
  auto* handle = new tierkv_client;
  handle->client = std::move(client).value();
  handle->tenant = options->tenant && *options->tenant ? options->tenant : kDefaultTenant;
  *out = handle;
  return Ok();
}

tierkv_status tierkv_connect(const char* address, tierkv_client** out) {
  TIERKV_REQUIRE("tierkv_connect", address);
  tierkv_connect_options options;
  tierkv_connect_options_init(&options);
  options.address = address;
  return tierkv_connect_with(&options, out);
}

void tierkv_close(tierkv_client* client) {
  if (!client) return;
  {
    std::lock_guard lock(client->mu);
    for (tierkv_lease* lease : client->leases) {
      (void)lease->lease.Release();
      lease->owner = nullptr;
    }
    for (tierkv_reservation* res : client->reservations) {
      (void)res->reservation.Abort();
      res->owner = nullptr;
    }
  }
  delete client;
}

int tierkv_is_local(const tierkv_client* client) {
  return client && client->client->is_local() ? 1 : 0;
}

tierkv_status tierkv_shared_pool(const tierkv_client* client, void** base, size_t* bytes) {
  TIERKV_REQUIRE("tierkv_shared_pool", client);
  TIERKV_REQUIRE("tierkv_shared_pool", base);
  TIERKV_REQUIRE("tierkv_shared_pool", bytes);
  const auto pool = client->client->shared_pool();
  *base = pool.data();
  *bytes = pool.size();
  return Ok();
}

void tierkv_namespace_spec_init(tierkv_namespace_spec* spec) {
  if (!spec) return;
  static const tierkv::NamespaceSpec defaults;
  *spec = tierkv_namespace_spec{};
  spec->kv_dtype = defaults.kv_dtype.c_str();
  spec->kv_layout = defaults.kv_layout.c_str();
  spec->block_tokens = defaults.block_tokens;
}

tierkv_status tierkv_open_namespace(tierkv_client* client, const tierkv_namespace_spec* spec,
                                    tierkv_namespace* out) {
  TIERKV_REQUIRE("tierkv_open_namespace", client);
  TIERKV_REQUIRE("tierkv_open_namespace", spec);
  TIERKV_REQUIRE("tierkv_open_namespace", out);
  TIERKV_REQUIRE("tierkv_open_namespace", spec->model_fingerprint);
  tierkv::NamespaceSpec s;
  s.model_fingerprint = spec->model_fingerprint;
  s.tenant = spec->tenant ? spec->tenant : client->tenant;
  if (spec->adapter_id) s.adapter_id = spec->adapter_id;
  if (spec->kv_dtype) s.kv_dtype = spec->kv_dtype;
  if (spec->kv_layout) s.kv_layout = spec->kv_layout;
  s.block_tokens = spec->block_tokens;
  s.block_bytes = spec->block_bytes;
  auto ns = client->client->OpenNamespace(s);
  if (!ns.ok()) return Report(ns.status());
  *out = tierkv_namespace{{ns->id.lo, ns->id.hi}, ns->handle, ns->block_tokens, ns->block_bytes};
  return Ok();
}

tierkv_status tierkv_chain_keys(const tierkv_namespace* ns, const tierkv_key* parent,
                                const uint32_t* tokens, size_t n_tokens, tierkv_key* keys,
                                size_t max_keys, size_t* n_keys) {
  TIERKV_REQUIRE("tierkv_chain_keys", ns);
  TIERKV_REQUIRE("tierkv_chain_keys", n_keys);
  if (ns->block_tokens == 0) {
    return Report(Status::InvalidArgument("tierkv_chain_keys: the namespace has block_tokens 0"));
  }
  const size_t needed = n_tokens / ns->block_tokens;
  *n_keys = needed;
  if (n_tokens > 0 && tokens == nullptr) return NullArgument("tierkv_chain_keys", "tokens");
  if (needed > max_keys) {
    return Report(Status::InvalidArgument(
        "tierkv_chain_keys: " + std::to_string(n_tokens) + " tokens make " +
        std::to_string(needed) + " keys, room for " + std::to_string(max_keys)));
  }
  if (needed > 0 && keys == nullptr) return NullArgument("tierkv_chain_keys", "keys");
  tierkv::Key128 key = parent ? tierkv::Key128{parent->lo, parent->hi}
                              : tierkv::Key128{ns->id.lo, ns->id.hi};
  for (size_t i = 0; i < needed; ++i) {
    key = tierkv::NextBlockKey(key, {tokens + i * ns->block_tokens, ns->block_tokens});
    keys[i] = tierkv_key{key.lo, key.hi};
  }
  return Ok();
}

tierkv_status tierkv_lookup(tierkv_client* client, const tierkv_namespace* ns,
                            const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                            int flags, uint32_t* matched_blocks, uint8_t* tiers) {
  TIERKV_REQUIRE("tierkv_lookup", client);
  TIERKV_REQUIRE("tierkv_lookup", ns);
  TIERKV_REQUIRE("tierkv_lookup", matched_blocks);
  if (tierkv_status s = CheckChain("tierkv_lookup", ns, keys, n_keys, tokens)) return s;
  if (flags & ~TIERKV_LOOKUP_PREFETCH) {
    return Report(Status::InvalidArgument("tierkv_lookup: unknown flags " + std::to_string(flags)));
  }
  auto r = client->client->Lookup(ToNamespace(ns), Keys(keys, n_keys), Tokens(ns, tokens, n_keys),
                                  {.prefetch = (flags & TIERKV_LOOKUP_PREFETCH) != 0});
  if (!r.ok()) return Report(r.status());
  if (r->matched_blocks > n_keys || r->locations.size() != r->matched_blocks) {
    return Report(Status::ProtocolError("daemon matched more blocks than were asked for"));
  }
  *matched_blocks = r->matched_blocks;
  if (tiers) {
    for (size_t i = 0; i < r->locations.size(); ++i) {
      tiers[i] = static_cast<uint8_t>(r->locations[i]);
    }
  }
  return Ok();
}

tierkv_status tierkv_get(tierkv_client* client, const tierkv_namespace* ns,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens, void* out,
                         size_t out_bytes, uint32_t* blocks_copied) {
  TIERKV_REQUIRE("tierkv_get", client);
  TIERKV_REQUIRE("tierkv_get", ns);
  TIERKV_REQUIRE("tierkv_get", blocks_copied);
  if (tierkv_status s = CheckChain("tierkv_get", ns, keys, n_keys, tokens)) return s;
  if (out_bytes > 0 && out == nullptr) return NullArgument("tierkv_get", "out");
  auto r = client->client->Get(ToNamespace(ns), Keys(keys, n_keys), Tokens(ns, tokens, n_keys),
                               {static_cast<std::byte*>(out), out_bytes});
  if (!r.ok()) return Report(r.status());
  *blocks_copied = *r;
  return Ok();
}

tierkv_status tierkv_acquire(tierkv_client* client, const tierkv_namespace* ns,
                             const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                             uint32_t max_blocks, int flags, tierkv_lease** out) {
  TIERKV_REQUIRE("tierkv_acquire", client);
  TIERKV_REQUIRE("tierkv_acquire", ns);
  TIERKV_REQUIRE("tierkv_acquire", out);
  if (tierkv_status s = CheckChain("tierkv_acquire", ns, keys, n_keys, tokens)) return s;
  if (flags & ~TIERKV_ACQUIRE_GPU) {
    return Report(
        Status::InvalidArgument("tierkv_acquire: unknown acquire flags " + std::to_string(flags)));
  }
  auto lease = client->client->Acquire(ToNamespace(ns), Keys(keys, n_keys),
                                       Tokens(ns, tokens, n_keys), max_blocks,
                                       {.gpu = (flags & TIERKV_ACQUIRE_GPU) != 0});
  if (!lease.ok()) return Report(lease.status());
  auto* handle = new tierkv_lease{std::move(lease).value(), client};
  {
    std::lock_guard lock(client->mu);
    client->leases.insert(handle);
  }
  *out = handle;
  return Ok();
}

size_t tierkv_lease_size(const tierkv_lease* lease) { return lease ? lease->lease.size() : 0; }

tierkv_status tierkv_lease_block(const tierkv_lease* lease, size_t i, int* tier,
                                 const void** host_bytes, uint64_t* gpu_offset) {
  TIERKV_REQUIRE("tierkv_lease_block", lease);
  if (i >= lease->lease.size()) {
    return Report(Status::InvalidArgument("tierkv_lease_block: block " + std::to_string(i) +
                                          " of a lease of " + std::to_string(lease->lease.size())));
  }
  const bool on_gpu = lease->lease.location(i) == tierkv::TierKind::kGpu;
  if (tier) *tier = on_gpu ? TIERKV_TIER_GPU : TIERKV_TIER_HOST;
  if (host_bytes) *host_bytes = on_gpu ? nullptr : lease->lease.payload(i).data();
  if (gpu_offset) *gpu_offset = lease->lease.gpu_offset(i);
  return Ok();
}

void tierkv_release(tierkv_lease* lease) {
  if (!lease) return;
  if (lease->owner) {
    std::lock_guard lock(lease->owner->mu);
    lease->owner->leases.erase(lease);
  }
  delete lease;  // ~Lease unpins
}

tierkv_status tierkv_gpu_pool_info(tierkv_client* client, tierkv_gpu_pool* out) {
  TIERKV_REQUIRE("tierkv_gpu_pool_info", client);
  TIERKV_REQUIRE("tierkv_gpu_pool_info", out);
  auto pool = client->client->GpuPool();
  if (!pool.ok()) return Report(pool.status());
  if (pool->ipc_handle.size() != sizeof out->ipc_handle ||
      pool->pci_bus_id.size() >= sizeof out->pci_bus_id) {
    return Report(Status::ProtocolError("daemon sent a GPU pool handle of another size"));
  }
  std::memset(out, 0, sizeof *out);
  out->device = pool->device;
  std::memcpy(out->pci_bus_id, pool->pci_bus_id.data(), pool->pci_bus_id.size());
  std::memcpy(out->ipc_handle, pool->ipc_handle.data(), pool->ipc_handle.size());
  out->pool_bytes = pool->pool_bytes;
  return Ok();
}

tierkv_status tierkv_put(tierkv_client* client, const tierkv_namespace* ns, tierkv_key parent,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                         const void* payload, size_t payload_bytes) {
  TIERKV_REQUIRE("tierkv_put", client);
  TIERKV_REQUIRE("tierkv_put", ns);
  if (tierkv_status s = CheckChain("tierkv_put", ns, keys, n_keys, tokens)) return s;
  if (payload_bytes > 0 && payload == nullptr) return NullArgument("tierkv_put", "payload");
  return Report(client->client->Put(ToNamespace(ns), {parent.lo, parent.hi}, Keys(keys, n_keys),
                                    Tokens(ns, tokens, n_keys),
                                    {static_cast<const std::byte*>(payload), payload_bytes}));
}

tierkv_status tierkv_reserve(tierkv_client* client, const tierkv_namespace* ns,
                             tierkv_key parent, const tierkv_key* keys, size_t n_keys,
                             const uint32_t* tokens, int flags, tierkv_reservation** out) {
  TIERKV_REQUIRE("tierkv_reserve", client);
  TIERKV_REQUIRE("tierkv_reserve", ns);
  TIERKV_REQUIRE("tierkv_reserve", out);
  if (tierkv_status s = CheckChain("tierkv_reserve", ns, keys, n_keys, tokens)) return s;
  if (flags & ~TIERKV_RESERVE_GPU) {
    return Report(
        Status::InvalidArgument("tierkv_reserve: unknown reserve flags " + std::to_string(flags)));
  }
  auto res = client->client->Reserve(ToNamespace(ns), {parent.lo, parent.hi}, Keys(keys, n_keys),
                                     Tokens(ns, tokens, n_keys),
                                     {.gpu = (flags & TIERKV_RESERVE_GPU) != 0});
  if (!res.ok()) return Report(res.status());
  auto* handle = new tierkv_reservation{std::move(res).value(), client};
  {
    std::lock_guard lock(client->mu);
    client->reservations.insert(handle);
  }
  *out = handle;
  return Ok();
}

size_t tierkv_reservation_size(const tierkv_reservation* reservation) {
  return reservation ? reservation->reservation.size() : 0;
}

tierkv_status tierkv_reservation_block(tierkv_reservation* reservation, size_t i, void** bytes) {
  TIERKV_REQUIRE("tierkv_reservation_block", reservation);
  TIERKV_REQUIRE("tierkv_reservation_block", bytes);
  if (i >= reservation->reservation.size()) {
    return Report(Status::InvalidArgument(
        "tierkv_reservation_block: block " + std::to_string(i) + " of a reservation of " +
        std::to_string(reservation->reservation.size())));
  }
  auto payload = reservation->reservation.payload(i);
  *bytes = payload.empty() ? nullptr : payload.data();
  return Ok();
}

namespace {

// Takes the reservation off its client's list; the caller then finishes and frees it.
void Detach(tierkv_reservation* reservation) {
  if (!reservation->owner) return;
  std::lock_guard lock(reservation->owner->mu);
  reservation->owner->reservations.erase(reservation);
}

}  // namespace

tierkv_status tierkv_commit(tierkv_reservation* reservation) {
  TIERKV_REQUIRE("tierkv_commit", reservation);
  Detach(reservation);
  const bool ended_by_close = reservation->owner == nullptr;
  Status s = ended_by_close ? Status::Unavailable("tierkv_commit: the client was closed")
                            : reservation->reservation.Commit();
  delete reservation;
  return Report(s);
}

tierkv_status tierkv_abort(tierkv_reservation* reservation) {
  if (!reservation) return Ok();
  Detach(reservation);
  Status s = reservation->reservation.Abort();
  delete reservation;
  return Report(s);
}

tierkv_status tierkv_stats_json(tierkv_client* client, char* buf, size_t buf_size,
                                size_t* json_bytes) {
  TIERKV_REQUIRE("tierkv_stats_json", client);
  if (buf_size > 0 && buf == nullptr) return NullArgument("tierkv_stats_json", "buf");
  auto stats = client->client->GetStats();
  if (!stats.ok()) return Report(stats.status());
  const std::string& json = stats->raw_json;
  if (json_bytes) *json_bytes = json.size();
  if (json.size() + 1 > buf_size) {
    return Report(Status::InvalidArgument(
        "tierkv_stats_json: the statistics document needs " + std::to_string(json.size() + 1) +
        " bytes with its NUL, buf has " + std::to_string(buf_size)));
  }
  std::memcpy(buf, json.c_str(), json.size() + 1);
  return Ok();
}

tierkv_status tierkv_health(tierkv_client* client, tierkv_health_info* out) {
  TIERKV_REQUIRE("tierkv_health", client);
  TIERKV_REQUIRE("tierkv_health", out);
  auto health = client->client->GetHealth();
  if (!health.ok()) return Report(health.status());
  tierkv_health_info info{};
  info.ok = health->ok ? 1 : 0;
  if (Status s = CopyText(health->version, info.version, sizeof info.version, "version"); !s.ok()) {
    return Report(s);
  }
  if (Status s = CopyText(health->detail, info.detail, sizeof info.detail, "health detail");
      !s.ok()) {
    return Report(s);
  }
  *out = info;
  return Ok();
}

tierkv_status tierkv_evict(tierkv_client* client, const tierkv_namespace* ns, uint64_t* evicted) {
  TIERKV_REQUIRE("tierkv_evict", client);
  tierkv::Namespace n;
  if (ns) n = ToNamespace(ns);
  auto r = client->client->Evict(ns ? &n : nullptr);
  if (!r.ok()) return Report(r.status());
  if (evicted) *evicted = *r;
  return Ok();
}

tierkv_status tierkv_flush(tierkv_client* client, uint64_t* written) {
  TIERKV_REQUIRE("tierkv_flush", client);
  auto r = client->client->Flush();
  if (!r.ok()) return Report(r.status());
  if (written) *written = *r;
  return Ok();
}

}  // extern "C"
