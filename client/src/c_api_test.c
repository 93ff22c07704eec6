/* The C ABI, compiled as C99: the header must be valid C, and the calls that
 * need no daemon must behave: keys match from any parent, defaults are filled,
 * status names are right, and every refusal is a status with a message on
 * this thread only. tests/integration/c_api_daemon_test.cc covers the calls
 * that talk to a daemon. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "tierkv/tierkv.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

enum { kBlockTokens = 4, kTokens = 10 };

static int Contains(const char* haystack, const char* needle) {
  return strstr(haystack, needle) != NULL;
}

/* key = XXH3_128(parent lo, parent hi, tokens as little-endian u32), written
 * out here from docs/architecture.md, independently of the library. */
static tierkv_key ExpectedKey(tierkv_key parent, const uint32_t* tokens, size_t n) {
  unsigned char buf[16 + 4 * 16];
  memcpy(buf, &parent.lo, 8);
  memcpy(buf + 8, &parent.hi, 8);
  memcpy(buf + 16, tokens, 4 * n);
  XXH128_hash_t h = XXH3_128bits(buf, 16 + 4 * n);
  tierkv_key key;
  key.lo = h.low64;
  key.hi = h.high64;
  return key;
}

static int SameKey(tierkv_key a, tierkv_key b) { return a.lo == b.lo && a.hi == b.hi; }

static void KeysChainFromAnyParent(void) {
  tierkv_namespace ns;
  memset(&ns, 0, sizeof ns);
  ns.id.lo = 7;
  ns.id.hi = 9;
  ns.block_tokens = kBlockTokens;
  uint32_t tokens[kTokens];
  for (int i = 0; i < kTokens; ++i) tokens[i] = (uint32_t)i;
  tierkv_key keys[4];
  size_t n = 99;
  /* 10 tokens in blocks of 4: two full blocks; the partial one gets no key. */
  CHECK(tierkv_chain_keys(&ns, NULL, tokens, kTokens, keys, 4, &n) == TIERKV_OK);
  CHECK(n == 2);
  const tierkv_key first = ExpectedKey(ns.id, tokens, kBlockTokens);
  CHECK(SameKey(keys[0], first));
  CHECK(SameKey(keys[1], ExpectedKey(first, tokens + kBlockTokens, kBlockTokens)));
  /* The second key, chained from the first as its parent, is the same key. */
  tierkv_key second;
  CHECK(tierkv_chain_keys(&ns, &keys[0], tokens + kBlockTokens, kBlockTokens, &second, 1, &n) ==
        TIERKV_OK);
  CHECK(n == 1 && SameKey(second, keys[1]));
  /* Too little room is an error that says how many keys are needed, and writes no key. */
  memset(keys, 0, sizeof keys);
  CHECK(tierkv_chain_keys(&ns, NULL, tokens, kTokens, keys, 1, &n) == TIERKV_INVALID_ARGUMENT);
  CHECK(n == 2);
  CHECK(keys[0].lo == 0 && keys[0].hi == 0);
  CHECK(Contains(tierkv_last_error(), "10 tokens make 2 keys, room for 1"));
  /* A success clears the message. */
  CHECK(tierkv_chain_keys(&ns, NULL, tokens, 3, NULL, 0, &n) == TIERKV_OK && n == 0);
  CHECK(strcmp(tierkv_last_error(), "") == 0);
  CHECK(tierkv_chain_keys(&ns, NULL, NULL, kTokens, keys, 4, &n) == TIERKV_INVALID_ARGUMENT);
  CHECK(Contains(tierkv_last_error(), "tokens is NULL"));
  ns.block_tokens = 0;
  CHECK(tierkv_chain_keys(&ns, NULL, tokens, kTokens, keys, 4, &n) == TIERKV_INVALID_ARGUMENT);
}

static void DefaultsAndNames(void) {
  tierkv_connect_options options;
  tierkv_connect_options_init(&options);
  CHECK(strcmp(options.address, "/tmp/tierkv.sock") == 0);
  CHECK(strcmp(options.tenant, "default") == 0);
  CHECK(options.tenant_token == NULL && options.admin_token == NULL);
  CHECK(options.timeout_ms == 10000 && options.touch_pool == 0);
  tierkv_namespace_spec spec;
  tierkv_namespace_spec_init(&spec);
  CHECK(strcmp(spec.kv_dtype, "f16") == 0);
  CHECK(strcmp(spec.kv_layout, "layer-major") == 0);
  CHECK(spec.block_tokens == 16 && spec.block_bytes == 0);
  CHECK(spec.model_fingerprint == NULL && spec.tenant == NULL && spec.adapter_id == NULL);
  CHECK(strcmp(tierkv_status_name(TIERKV_OK), "ok") == 0);
  CHECK(strcmp(tierkv_status_name(TIERKV_PERMISSION_DENIED), "permission_denied") == 0);
  CHECK(strcmp(tierkv_status_name(TIERKV_UNSUPPORTED), "unsupported") == 0);
  CHECK(strcmp(tierkv_status_name(-1), "unknown") == 0);
  CHECK(strcmp(tierkv_status_name(99), "unknown") == 0);
  CHECK(strncmp(tierkv_version(), "0.", 2) == 0);
}

static void ConnectRefusals(void) {
  tierkv_client* client = NULL;
  CHECK(tierkv_connect("/nonexistent/tierkv.sock", &client) == TIERKV_UNAVAILABLE);
  CHECK(client == NULL);
  CHECK(Contains(tierkv_last_error(), "cannot reach tierkvd"));
  CHECK(tierkv_connect(NULL, &client) == TIERKV_INVALID_ARGUMENT);
  CHECK(Contains(tierkv_last_error(), "address is NULL"));
  CHECK(tierkv_connect("tcp:no-port-here", &client) == TIERKV_INVALID_ARGUMENT);
  tierkv_connect_options options;
  tierkv_connect_options_init(&options);
  options.timeout_ms = -1;
  CHECK(tierkv_connect_with(&options, &client) == TIERKV_INVALID_ARGUMENT);
  CHECK(Contains(tierkv_last_error(), "timeout_ms must be >= 0"));
  CHECK(tierkv_connect_with(NULL, &client) == TIERKV_INVALID_ARGUMENT);
  /* Calls on no client are refused, never crash; NULL handles are ignored. */
  uint32_t matched = 0;
  CHECK(tierkv_lookup(NULL, NULL, NULL, 0, NULL, 0, &matched, NULL) == TIERKV_INVALID_ARGUMENT);
  CHECK(Contains(tierkv_last_error(), "tierkv_lookup: client is NULL"));
  CHECK(tierkv_stats_json(NULL, NULL, 0, NULL) == TIERKV_INVALID_ARGUMENT);
  CHECK(tierkv_health(NULL, NULL) == TIERKV_INVALID_ARGUMENT);
  CHECK(tierkv_evict(NULL, NULL, NULL) == TIERKV_INVALID_ARGUMENT);
  CHECK(tierkv_flush(NULL, NULL) == TIERKV_INVALID_ARGUMENT);
  CHECK(tierkv_commit(NULL) == TIERKV_INVALID_ARGUMENT);
  CHECK(tierkv_abort(NULL) == TIERKV_OK);
  CHECK(tierkv_is_local(NULL) == 0);
  CHECK(tierkv_lease_size(NULL) == 0 && tierkv_reservation_size(NULL) == 0);
  tierkv_release(NULL);
  tierkv_close(NULL);
}

/* Another thread's failure leaves this thread's message alone. */
static void* FailOnAnotherThread(void* arg) {
  tierkv_client* client = NULL;
  (void)arg;
  CHECK(tierkv_connect(NULL, &client) == TIERKV_INVALID_ARGUMENT);
  CHECK(Contains(tierkv_last_error(), "address is NULL"));
  return NULL;
}

static void LastErrorIsPerThread(void) {
  tierkv_client* client = NULL;
  CHECK(tierkv_connect("/nonexistent/tierkv.sock", &client) == TIERKV_UNAVAILABLE);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, FailOnAnotherThread, NULL) == 0);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK(Contains(tierkv_last_error(), "cannot reach tierkvd"));
}

int main(void) {
  KeysChainFromAnyParent();
  DefaultsAndNames();
  ConnectRefusals();
  LastErrorIsPerThread();
  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
