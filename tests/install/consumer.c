/* An engine written in C, built out of tree against the installed libtierkv
 * (find_package or pkg-config): stores a prompt's blocks by writing them in
 * place, looks them up, reads them back by copy and by lease, and asks for
 * stats and health. Usage: consumer_c ADDRESS; exit 0 when every check holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tierkv/tierkv.h>

enum { kBlocks = 4, kBlockTokens = 16, kBlockBytes = 4096 };

static int Fail(const char* what) {
  fprintf(stderr, "consumer_c: %s: %s\n", what, tierkv_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: consumer_c ADDRESS\n");
    return 2;
  }
  tierkv_connect_options options;
  tierkv_connect_options_init(&options);
  options.address = argv[1];
  options.timeout_ms = 5000;
  tierkv_client* client = NULL;
  if (tierkv_connect_with(&options, &client) != TIERKV_OK) return Fail("connect");

  tierkv_namespace_spec spec;
  tierkv_namespace_spec_init(&spec);
  spec.model_fingerprint = "consumer-c";
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = kBlockBytes;
  tierkv_namespace ns;
  if (tierkv_open_namespace(client, &spec, &ns) != TIERKV_OK) return Fail("open_namespace");

  uint32_t tokens[kBlocks * kBlockTokens];
  for (int i = 0; i < kBlocks * kBlockTokens; ++i) tokens[i] = (uint32_t)(1000 + i);
  tierkv_key keys[kBlocks];
  size_t n_keys = 0;
  if (tierkv_chain_keys(&ns, NULL, tokens, kBlocks * kBlockTokens, keys, kBlocks, &n_keys) !=
          TIERKV_OK ||
      n_keys != kBlocks) {
    return Fail("chain_keys");
  }

  tierkv_reservation* res = NULL;
  if (tierkv_reserve(client, &ns, ns.id, keys, kBlocks, tokens, 0, &res) != TIERKV_OK) {
    return Fail("reserve");
  }
  for (size_t i = 0; i < tierkv_reservation_size(res); ++i) {
    void* slot = NULL;
    if (tierkv_reservation_block(res, i, &slot) != TIERKV_OK) return Fail("reservation_block");
    if (slot) memset(slot, (int)(i + 1), kBlockBytes);
  }
  if (tierkv_commit(res) != TIERKV_OK) return Fail("commit");

  uint32_t matched = 0;
  if (tierkv_lookup(client, &ns, keys, kBlocks, tokens, 0, &matched, NULL) != TIERKV_OK ||
      matched != kBlocks) {
    return Fail("lookup");
  }
  static unsigned char out[kBlocks * kBlockBytes];
  uint32_t copied = 0;
  if (tierkv_get(client, &ns, keys, kBlocks, tokens, out, sizeof out, &copied) != TIERKV_OK ||
      copied != kBlocks || out[3 * kBlockBytes] != 4) {
    return Fail("get");
  }
  tierkv_lease* lease = NULL;
  if (tierkv_acquire(client, &ns, keys, kBlocks, tokens, kBlocks, 0, &lease) != TIERKV_OK ||
      tierkv_lease_size(lease) != kBlocks) {
    return Fail("acquire");
  }
  const void* bytes = NULL;
  if (tierkv_lease_block(lease, 2, NULL, &bytes, NULL) != TIERKV_OK ||
      ((const unsigned char*)bytes)[kBlockBytes - 1] != 3) {
    return Fail("lease_block");
  }
  tierkv_release(lease);

  char stats[1 << 16];
  size_t stats_bytes = 0;
  if (tierkv_stats_json(client, stats, sizeof stats, &stats_bytes) != TIERKV_OK ||
      strstr(stats, "consumer-c") == NULL) {
    return Fail("stats_json");
  }
  tierkv_health_info health;
  if (tierkv_health(client, &health) != TIERKV_OK || !health.ok) return Fail("health");
  tierkv_close(client);
  printf("consumer_c: ok (%s, libtierkv %s, daemon %s)\n", argv[1], tierkv_version(),
         health.version);
  return 0;
}
