/* libtierkv C ABI: the client of tierkvd for engines written in C or in any
 * language with a C foreign-function interface. Valid C99 and C++.
 *
 * Errors. Every call that can fail returns a tierkv_status: TIERKV_OK (0) or a
 * TIERKV_* code, the same numbers as the C++ tierkv::StatusCode. A failed call
 * leaves a message, readable with tierkv_last_error() on the same thread until
 * that thread's next tierkv call; a successful call clears it. A buffer that
 * is too small for what a call would write is an error (never a short or zero
 * count), and the call says in an out-parameter how much it needs.
 *
 * Handles and ownership. tierkv_connect* makes a tierkv_client, owned by the
 * caller until tierkv_close. tierkv_acquire makes a tierkv_lease (freed by
 * tierkv_release), tierkv_reserve a tierkv_reservation (freed by
 * tierkv_commit or tierkv_abort). Leases and reservations belong to the client
 * that made them: tierkv_close unpins every lease and aborts every reservation
 * still open on it, after which those handles hold no blocks and must still be
 * freed. tierkv_namespace is a plain value the caller owns and may copy.
 * Strings passed in are copied; nothing is kept after a call returns.
 *
 * Thread safety. A tierkv_client may be used by several threads at once: its
 * requests are serialized on its one connection (for parallel requests use
 * one client per thread). tierkv_close must not race with any other call on
 * the client or on its leases and reservations. A tierkv_lease or
 * tierkv_reservation is used by one thread at a time; it may move between
 * threads. tierkv_last_error, tierkv_chain_keys and the *_init functions are
 * safe from any thread.
 *
 * Batches. Every call that takes keys takes a chain of up to
 * TIERKV_MAX_BLOCKS_PER_CALL blocks: one request, however many blocks.
 */
#ifndef TIERKV_TIERKV_H_
#define TIERKV_TIERKV_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int tierkv_status;
enum {
  TIERKV_OK = 0,
  TIERKV_INVALID_ARGUMENT = 1,   /* a bad argument, or a buffer too small */
  TIERKV_NOT_FOUND = 2,          /* an unknown namespace, lease or reservation */
  TIERKV_RESOURCE_EXHAUSTED = 3, /* a tier is full of pinned blocks, or a quota is hit */
  TIERKV_CORRUPTION = 4,         /* stored bytes failed their checksum (they are dropped) */
  TIERKV_IO_ERROR = 5,           /* the OS refused a read or write */
  TIERKV_PERMISSION_DENIED = 6,  /* a tenant or admin token does not allow this */
  TIERKV_UNAVAILABLE = 7,        /* the daemon cannot be reached, or timed out */
  TIERKV_PROTOCOL_ERROR = 8,     /* a frame could not be decoded */
  TIERKV_INTERNAL = 9,           /* a bug: an invariant did not hold */
  TIERKV_ALREADY_EXISTS = 10,    /* the block is already stored */
  TIERKV_UNSUPPORTED = 11        /* a version or feature this daemon does not have */
};

/* Where a block lives (tierkv_lookup's tiers, tierkv_lease_block). */
enum {
  TIERKV_TIER_NONE = 0,
  TIERKV_TIER_GPU = 1,
  TIERKV_TIER_HOST = 2,
  TIERKV_TIER_NVME = 3,
  TIERKV_TIER_REMOTE = 4
};

/* tierkv_lookup flags. */
enum {
  /* Matched blocks found on NVMe start moving up to the host tier now. */
  TIERKV_LOOKUP_PREFETCH = 1
};

/* tierkv_acquire flags. */
enum {
  /* This process reads the daemon's GPU tier (tierkv_gpu_pool_info): blocks
   * with a GPU copy come as offsets in that pool; the others start copying up. */
  TIERKV_ACQUIRE_GPU = 1
};

/* tierkv_reserve flags. */
enum {
  /* This process reads the daemon's GPU tier: once committed, the blocks
   * start copying up to it too. */
  TIERKV_RESERVE_GPU = 1
};

/* The most blocks one call may name. */
#define TIERKV_MAX_BLOCKS_PER_CALL 4096

/* A 128-bit block key: the name of a whole token prefix. */
typedef struct tierkv_key {
  uint64_t lo;
  uint64_t hi;
} tierkv_key;

typedef struct tierkv_client tierkv_client;
typedef struct tierkv_lease tierkv_lease;
typedef struct tierkv_reservation tierkv_reservation;

/* An open namespace, as tierkv_open_namespace fills it. id roots its key chains. */
typedef struct tierkv_namespace {
  tierkv_key id;
  uint32_t handle;
  uint32_t block_tokens;
  uint64_t block_bytes;
} tierkv_namespace;

/* The message of this thread's last failed call ("" after a successful one).
 * Valid until this thread's next tierkv call. */
const char* tierkv_last_error(void);

/* "ok", "invalid_argument", "not_found", ...; "unknown" for a value off the list. */
const char* tierkv_status_name(tierkv_status status);

/* This library's version, "MAJOR.MINOR.PATCH". */
const char* tierkv_version(void);

/* ---- Connecting ---- */

typedef struct tierkv_connect_options {
  /* "unix:PATH", "tcp:HOST:PORT" or a bare socket path. */
  const char* address;
  /* Tenant of namespaces opened with a NULL tenant; NULL: "default". */
  const char* tenant;
  /* That tenant's token, when the daemon lists it under [tenants]; NULL: none. */
  const char* tenant_token;
  /* The admin token, for evict and flush when the daemon sets one; NULL: none. */
  const char* admin_token;
  /* Longest wait for the daemon on each send and receive, in ms; 0: no limit.
   * A call that runs out of time fails with TIERKV_UNAVAILABLE. */
  int timeout_ms;
  /* Nonzero: touch every page of the shared pool at connect (Unix sockets),
   * so the first blocks read later do not pay first-touch faults (engines
   * want this; short-lived tools do not). */
  int touch_pool;
} tierkv_connect_options;

/* Fills the defaults: address "/tmp/tierkv.sock", tenant "default", no
 * tokens, timeout_ms 10000, touch_pool 0. */
void tierkv_connect_options_init(tierkv_connect_options* options);

/* Connects and says hello (version check; on a Unix socket also maps the
 * daemon's shared pool into this process). *out is set only on success. */
tierkv_status tierkv_connect_with(const tierkv_connect_options* options, tierkv_client** out);

/* tierkv_connect_with the defaults and this address. */
tierkv_status tierkv_connect(const char* address, tierkv_client** out);

/* Unpins the client's open leases, aborts its open reservations, closes the
 * connection and frees the client (NULL is ignored). */
void tierkv_close(tierkv_client* client);

/* 1 when payloads live in the mapped shared pool (Unix socket), 0 over TCP. */
int tierkv_is_local(const tierkv_client* client);

/* The daemon's shared pool as mapped into this process (local clients): every
 * lease and reservation block lies inside it, and it stays mapped until
 * tierkv_close, so it can be registered once for device access
 * (cudaHostRegister). *base NULL and *bytes 0 over TCP. */
tierkv_status tierkv_shared_pool(const tierkv_client* client, void** base, size_t* bytes);

/* ---- Namespaces and keys ---- */

/* Everything that must match for two blocks to be interchangeable. */
typedef struct tierkv_namespace_spec {
  const char* model_fingerprint; /* required, e.g. a hash of the weights */
  const char* tenant;            /* NULL: the client's tenant */
  const char* adapter_id;        /* LoRA id; NULL or "": none */
  const char* kv_dtype;          /* "f32", "f16", "bf16", "q8_0", "fp8_e4m3" or "fp8_e5m2" */
  const char* kv_layout;         /* the engine's name for its KV layout */
  uint32_t block_tokens;         /* tokens per block, 1..4096 */
  uint64_t block_bytes;          /* payload bytes per block, 1..the daemon's slab size */
} tierkv_namespace_spec;

/* Fills the defaults: tenant NULL, no adapter, kv_dtype "f16", kv_layout
 * "layer-major", block_tokens 16; model_fingerprint NULL and block_bytes 0
 * must be set. */
void tierkv_namespace_spec_init(tierkv_namespace_spec* spec);

/* Opens (or finds) the namespace. An unknown kv_dtype, a missing fingerprint
 * or an impossible size is TIERKV_INVALID_ARGUMENT; a tenant whose token the
 * client lacks is TIERKV_PERMISSION_DENIED. */
tierkv_status tierkv_open_namespace(tierkv_client* client, const tierkv_namespace_spec* spec,
                                    tierkv_namespace* out);

/* Keys of the full blocks of tokens[0..n_tokens), chained from *parent (NULL:
 * ns->id, i.e. a prompt's first block). Writes n_tokens / block_tokens keys (a
 * trailing partial block gets none) and that count to *n_keys. max_keys below
 * that count is TIERKV_INVALID_ARGUMENT, with the count needed in *n_keys.
 * Local: no round trip. */
tierkv_status tierkv_chain_keys(const tierkv_namespace* ns, const tierkv_key* parent,
                                const uint32_t* tokens, size_t n_tokens, tierkv_key* keys,
                                size_t max_keys, size_t* n_keys);

/* ---- Reading ---- */

/* Longest verified cached prefix of keys[0..n_keys): tokens holds n_keys *
 * block_tokens ids (checked by the daemon). *matched_blocks gets its length;
 * tiers, when not NULL, has room for n_keys entries and gets TIERKV_TIER_* of
 * each matched block. flags: TIERKV_LOOKUP_PREFETCH or 0. */
tierkv_status tierkv_lookup(tierkv_client* client, const tierkv_namespace* ns,
                            const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                            int flags, uint32_t* matched_blocks, uint8_t* tiers);

/* Copies the longest cached prefix of keys[0..n_keys) into out, block i at
 * out + i * block_bytes, and its length to *blocks_copied. out_bytes below
 * n_keys * block_bytes is TIERKV_INVALID_ARGUMENT (pass fewer keys to read
 * fewer blocks). Over TCP the bytes travel inline. */
tierkv_status tierkv_get(tierkv_client* client, const tierkv_namespace* ns,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens, void* out,
                         size_t out_bytes, uint32_t* blocks_copied);

/* Pins the longest cached prefix of keys[0..n_keys), at most max_blocks blocks,
 * and lends it in place: no byte is copied, and the blocks are neither evicted
 * nor moved until tierkv_release. A miss ends the prefix, so the lease may hold
 * fewer blocks than asked, or none. Over TCP the bytes come in the reply and
 * the lease holds them (nothing is pinned). flags: TIERKV_ACQUIRE_GPU or 0. */
tierkv_status tierkv_acquire(tierkv_client* client, const tierkv_namespace* ns,
                             const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                             uint32_t max_blocks, int flags, tierkv_lease** out);

/* Blocks in the lease (0 for NULL, and after tierkv_close of its client). */
size_t tierkv_lease_size(const tierkv_lease* lease);

/* Block i of a lease: *tier is TIERKV_TIER_HOST (*host_bytes points at its
 * block_bytes bytes, valid until tierkv_release) or TIERKV_TIER_GPU
 * (*host_bytes is NULL and the block is at *gpu_offset in the GPU pool). Any
 * output pointer may be NULL. i out of range is TIERKV_INVALID_ARGUMENT. */
tierkv_status tierkv_lease_block(const tierkv_lease* lease, size_t i, int* tier,
                                 const void** host_bytes, uint64_t* gpu_offset);

/* Unpins the blocks and frees the lease (NULL is ignored). */
void tierkv_release(tierkv_lease* lease);

/* The daemon's GPU tier pool, for engines on the same GPU: open it with
 * cudaIpcOpenMemHandle((void**)&base, *(cudaIpcMemHandle_t*)ipc_handle, ...)
 * on the device whose PCI bus id is pci_bus_id. TIERKV_UNAVAILABLE (with the
 * daemon's reason) when the daemon runs without one; TIERKV_UNSUPPORTED over TCP. */
typedef struct tierkv_gpu_pool {
  int device;
  char pci_bus_id[32];
  unsigned char ipc_handle[64];
  uint64_t pool_bytes;
} tierkv_gpu_pool;
tierkv_status tierkv_gpu_pool_info(tierkv_client* client, tierkv_gpu_pool* out);

/* ---- Writing ---- */

/* Stores keys[0..n_keys) with their payloads (payload_bytes must be n_keys *
 * block_bytes): reserve, copy, commit in one call. parent is the key before
 * keys[0] (ns->id for a prompt's first block); the daemon checks every key
 * against its parent and tokens. Blocks already stored are skipped. */
tierkv_status tierkv_put(tierkv_client* client, const tierkv_namespace* ns, tierkv_key parent,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                         const void* payload, size_t payload_bytes);

/* Reserves slots for keys[0..n_keys) (parent and tokens as for tierkv_put), to
 * be written in place (tierkv_reservation_block) and then published with
 * tierkv_commit or dropped with tierkv_abort. All or nothing: a full tier is
 * TIERKV_RESOURCE_EXHAUSTED and reserves nothing. Over TCP the slots are
 * staged in this process and tierkv_commit sends them. flags:
 * TIERKV_RESERVE_GPU or 0. */
tierkv_status tierkv_reserve(tierkv_client* client, const tierkv_namespace* ns,
                             tierkv_key parent, const tierkv_key* keys, size_t n_keys,
                             const uint32_t* tokens, int flags, tierkv_reservation** out);

/* Blocks in the reservation (0 for NULL, and after tierkv_close of its client). */
size_t tierkv_reservation_size(const tierkv_reservation* reservation);

/* Where block i's block_bytes bytes go, valid until commit or abort; NULL
 * when the block is already stored (nothing to write). i out of range is
 * TIERKV_INVALID_ARGUMENT. */
tierkv_status tierkv_reservation_block(tierkv_reservation* reservation, size_t i, void** bytes);

/* Publishes the written blocks (lookups find them from now on) and frees the
 * reservation, also when the commit fails. */
tierkv_status tierkv_commit(tierkv_reservation* reservation);

/* Frees the slots unwritten and frees the reservation (NULL is ignored). */
tierkv_status tierkv_abort(tierkv_reservation* reservation);

/* ---- Observing and administering ---- */

/* The daemon's statistics document (JSON: tiers, namespaces, counters),
 * NUL-terminated, into buf. *json_bytes, when not NULL, gets its
 * length without the NUL. buf_size below that length + 1 is
 * TIERKV_INVALID_ARGUMENT, with the length in *json_bytes. */
tierkv_status tierkv_stats_json(tierkv_client* client, char* buf, size_t buf_size,
                                size_t* json_bytes);

typedef struct tierkv_health_info {
  int ok;             /* nonzero: the daemon serves requests */
  char version[64];   /* the daemon's version, NUL-terminated */
  char detail[512];   /* one line about its state, NUL-terminated */
} tierkv_health_info;
tierkv_status tierkv_health(tierkv_client* client, tierkv_health_info* out);

/* Drops every unpinned block of ns (NULL: of every namespace) from every
 * tier; *evicted (may be NULL) gets how many. Needs the admin token when the
 * daemon sets one (TIERKV_PERMISSION_DENIED otherwise). */
tierkv_status tierkv_evict(tierkv_client* client, const tierkv_namespace* ns, uint64_t* evicted);

/* Writes every host-tier block without an NVMe copy to NVMe; *written (may be
 * NULL) gets how many. On TIERKV_OK every block stored before the call
 * survives a daemon crash. Needs the admin token when the daemon sets one. */
tierkv_status tierkv_flush(tierkv_client* client, uint64_t* written);

#ifdef __cplusplus
}
#endif

#endif /* TIERKV_TIERKV_H_ */
