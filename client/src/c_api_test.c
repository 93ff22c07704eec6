/* The C ABI, compiled as C: the header must be valid C, and the calls that
 * need no daemon must behave (keys match the C++ chain, errors are reported). */
#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "tierkv/tierkv.h"

static int failures = 0;
#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                 \
    }                                                             \
  } while (0)

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

int main(void) {
  tierkv_namespace ns;
  memset(&ns, 0, sizeof ns);
  ns.id.lo = 7;
  ns.id.hi = 9;
  ns.block_tokens = 4;
  uint32_t tokens[10];
  for (int i = 0; i < 10; ++i) tokens[i] = (uint32_t)i;
  tierkv_key keys[4];
  /* 10 tokens in blocks of 4: two full blocks, the partial one gets no key. */
  CHECK(tierkv_chain_keys(&ns, tokens, 10, keys, 4) == 2);
  const tierkv_key first = ExpectedKey(ns.id, tokens, 4);
  CHECK(SameKey(keys[0], first));
  CHECK(SameKey(keys[1], ExpectedKey(first, tokens + 4, 4)));
  /* Room for one key: only the first is written. */
  memset(keys, 0, sizeof keys);
  CHECK(tierkv_chain_keys(&ns, tokens, 10, keys, 1) == 1);
  CHECK(SameKey(keys[0], first));
  CHECK(keys[1].lo == 0 && keys[1].hi == 0);

  tierkv_client* client = NULL;
  tierkv_status s = tierkv_connect("/nonexistent/tierkv.sock", &client);
  CHECK(s == TIERKV_UNAVAILABLE);
  CHECK(client == NULL);
  CHECK(strstr(tierkv_last_error(), "cannot reach tierkvd") != NULL);
  CHECK(tierkv_connect(NULL, &client) == TIERKV_INVALID_ARGUMENT);

  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
