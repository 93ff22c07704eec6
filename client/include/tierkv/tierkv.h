/* libtierkv C ABI: the client for engines written in other languages.
 *
 * Every function returns a tierkv_status (0 = OK; otherwise a TIERKV_* code
 * matching the C++ StatusCode) and, on error, a message available through
 * tierkv_last_error() until the next call on the same thread. Handles are
 * opaque; tierkv_connect has a matching tierkv_close.
 * A tierkv_client may be shared between threads: its requests are serialized.
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
  TIERKV_INVALID_ARGUMENT = 1,
  TIERKV_NOT_FOUND = 2,
  TIERKV_RESOURCE_EXHAUSTED = 3,
  TIERKV_CORRUPTION = 4,
  TIERKV_IO_ERROR = 5,
  TIERKV_PERMISSION_DENIED = 6,
  TIERKV_UNAVAILABLE = 7,
  TIERKV_PROTOCOL_ERROR = 8,
  TIERKV_INTERNAL = 9,
  TIERKV_ALREADY_EXISTS = 10,
  TIERKV_UNSUPPORTED = 11,
};

/* Where a leased block lives (tierkv_lease_block). */
enum { TIERKV_TIER_GPU = 1, TIERKV_TIER_HOST = 2 };

/* tierkv_acquire flags. */
enum {
  /* This process reads the daemon's GPU tier (tierkv_gpu_pool): blocks with
   * a GPU copy come as offsets in that pool; the others start copying up. */
  TIERKV_ACQUIRE_GPU = 1,
};

typedef struct tierkv_key {
  uint64_t lo;
  uint64_t hi;
} tierkv_key;

typedef struct tierkv_client tierkv_client;
typedef struct tierkv_lease tierkv_lease;

typedef struct tierkv_namespace {
  tierkv_key id;
  uint32_t handle;
  uint32_t block_tokens;
  uint64_t block_bytes;
} tierkv_namespace;

/* The message of the last failed call on this thread ("" if none). */
const char* tierkv_last_error(void);

/* address: "unix:PATH", "tcp:HOST:PORT" or a bare socket path. */
tierkv_status tierkv_connect(const char* address, tierkv_client** out);
void tierkv_close(tierkv_client* client);

tierkv_status tierkv_open_namespace(tierkv_client* client, const char* model_fingerprint,
                                    const char* tenant, const char* kv_dtype,
                                    uint32_t block_tokens, uint64_t block_bytes,
                                    tierkv_namespace* out);

/* Keys of the full blocks of tokens[0..n_tokens); writes at most max_keys, returns the count. */
size_t tierkv_chain_keys(const tierkv_namespace* ns, const uint32_t* tokens, size_t n_tokens,
                         tierkv_key* keys, size_t max_keys);

/* Longest cached prefix of keys[0..n_keys) (tokens: n_keys * block_tokens ids). */
tierkv_status tierkv_lookup(tierkv_client* client, const tierkv_namespace* ns,
                            const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                            int prefetch, uint32_t* matched_blocks);

/* Copies the longest cached prefix (at most out_bytes / block_bytes blocks) into out. */
tierkv_status tierkv_get(tierkv_client* client, const tierkv_namespace* ns,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens, void* out,
                         size_t out_bytes, uint32_t* blocks_copied);

/* Pins the longest cached prefix of keys[0..n_keys) (at most max_blocks
 * blocks) and lends it in place: no byte is copied. The blocks stay put until
 * tierkv_release. On a TCP connection the bytes are held by the lease. */
tierkv_status tierkv_acquire(tierkv_client* client, const tierkv_namespace* ns,
                             const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                             uint32_t max_blocks, int flags, tierkv_lease** out);
size_t tierkv_lease_size(const tierkv_lease* lease);
/* Block i of a lease: *tier is TIERKV_TIER_HOST (*host_bytes points at its
 * block_bytes bytes) or TIERKV_TIER_GPU (*host_bytes is NULL and the block is
 * at *gpu_offset in the GPU pool). Any output pointer may be NULL. */
tierkv_status tierkv_lease_block(const tierkv_lease* lease, size_t i, int* tier,
                                 const void** host_bytes, uint64_t* gpu_offset);
/* Unpins the blocks and frees the lease (NULL is ignored). */
void tierkv_release(tierkv_lease* lease);

/* The daemon's GPU tier pool, for engines on the same GPU: open it with
 * cudaIpcOpenMemHandle((void**)&base, *(cudaIpcMemHandle_t*)ipc_handle, ...)
 * on the device whose PCI bus id is pci_bus_id. TIERKV_UNAVAILABLE (with the
 * daemon's reason) when the daemon runs without one. */
typedef struct tierkv_gpu_pool {
  int device;
  char pci_bus_id[32];
  unsigned char ipc_handle[64];
  uint64_t pool_bytes;
} tierkv_gpu_pool;
tierkv_status tierkv_gpu_pool_info(tierkv_client* client, tierkv_gpu_pool* out);

/* Stores n_keys blocks; parent is the key before keys[0] (ns->id for a prompt's first block). */
tierkv_status tierkv_put(tierkv_client* client, const tierkv_namespace* ns, tierkv_key parent,
                         const tierkv_key* keys, size_t n_keys, const uint32_t* tokens,
                         const void* payload, size_t payload_bytes);

#ifdef __cplusplus
}
#endif

#endif  // TIERKV_TIERKV_H_
