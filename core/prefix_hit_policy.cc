#include "core/prefix_hit_policy.h"

#include <algorithm>
#include <cmath>

namespace tierkv::core {

double PrefillFlopsPerToken(const LlamaConfig& c) {
  const double dim = c.dim;
  const double attention = dim * dim * 2 + dim * c.kv_dim() * 2;  // q, o; k, v
  const double ffn = 3.0 * dim * c.ffn_dim;                       // gate, up, down
  const double output = dim * c.vocab;
  return 2.0 * (c.n_layers * (attention + ffn) + output);
}

double PrefillSecondsPerToken(const LlamaConfig& config, const PrefixHitCosts& costs) {
  return std::max(PrefillFlopsPerToken(config) / costs.prefill_flops_per_s,
                  config.n_layers * costs.prefill_floor_s_per_token_layer);
}

int BreakEvenCachedTokens(const LlamaConfig& config, size_t block_bytes, int block_tokens,
                          const PrefixHitCosts& costs) {
  const double saved_per_block = block_tokens * PrefillSecondsPerToken(config, costs) -
                                 static_cast<double>(block_bytes) / costs.load_bytes_per_s;
  if (saved_per_block <= 0) return kHitNeverPays;
  const double blocks = std::ceil(costs.fixed_s / saved_per_block);
  if (blocks * block_tokens >= kHitNeverPays) return kHitNeverPays;
  return static_cast<int>(std::max(1.0, blocks)) * block_tokens;
}

}  // namespace tierkv::core
