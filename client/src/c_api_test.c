/* The C ABI, compiled as C: the header must be valid C, and the calls that
 * need no daemon must behave (keys match the C++ chain, errors are reported). */
#include <stdio.h>
#include <string.h>

#include "tierkv/tierkv.h"

static int failures = 0;
#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                 \
    }                                                             \
  } while (0)

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
  CHECK(tierkv_chain_keys(&ns, tokens, 10, keys, 1) == 1);
  CHECK(keys[0].lo != 0 || keys[0].hi != 0);

  tierkv_client* client = NULL;
  tierkv_status s = tierkv_connect("/nonexistent/tierkv.sock", &client);
  CHECK(s == TIERKV_UNAVAILABLE);
  CHECK(client == NULL);
  CHECK(strstr(tierkv_last_error(), "cannot reach tierkvd") != NULL);
  CHECK(tierkv_connect(NULL, &client) == TIERKV_INVALID_ARGUMENT);

  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
