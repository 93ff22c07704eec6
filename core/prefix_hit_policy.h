// When a cached prefix is worth loading instead of recomputing it.
//
// Using a hit costs a fixed part (the lease's round trips to tierkvd, acquire
// and release) plus a part per byte (a fresh process's first touch of the
// daemon's pool pages, then the copy into the sequence's pages); it saves the
// prefill of the hit's tokens. A hit shorter than the break-even is
// recomputed, so a cached run is never slower than a cold one for want of a
// threshold; a prompt whose full blocks together stay below it is not looked
// up at all. The costs are this repository's measurements
// (docs/inference-core.md, "Cached never slower than cold").
#pragma once

#include <cstddef>
#include <limits>

#include "core/llama_config.h"

namespace tierkv::core {

// EngineOptions::min_cached_tokens: compute the break-even for the model.
inline constexpr int kAutoMinCachedTokens = -1;
// A break-even no hit reaches: loading a token costs more than computing it.
inline constexpr int kHitNeverPays = std::numeric_limits<int>::max();

struct PrefixHitCosts {
  double prefill_flops_per_s;  // the prefill's matrix products
  // The least a prompt token costs in one layer however narrow the model:
  // a dozen small operations, each with its own call and loop overhead. A
  // small model's prefill is this floor, not its FLOPs.
  double prefill_floor_s_per_token_layer;
  double load_bytes_per_s;  // first touch of pool pages plus the copy
  double fixed_s;           // one hit's round trips, whatever its size
};

// The CPU engine on the development VMs (2 cores, shadow paging), measured
// for docs/inference-core.md. Optimistic about the prefill (its best sgemm
// rate, attention left out; a floor about 5x below the least the tiny model
// measured, 9 us per token and layer) and pessimistic about the load, so that
// a hit counted as paying does pay.
inline constexpr PrefixHitCosts kCpuPrefixHitCosts{.prefill_flops_per_s = 200e9,
                                                   .prefill_floor_s_per_token_layer = 2e-6,
                                                   .load_bytes_per_s = 0.5e9,
                                                   .fixed_s = 150e-6};

// Seconds the prefill of one prompt token costs at least: its FLOPs at the
// prefill rate, or the per-layer floor, whichever is more.
double PrefillSecondsPerToken(const LlamaConfig& config, const PrefixHitCosts& costs);

// FLOPs of one prompt token through `config`'s weight matrices (two per
// weight: every layer's projections and FFN, and the output). Attention is
// left out: it grows with the context and only makes a hit pay sooner.
double PrefillFlopsPerToken(const LlamaConfig& config);

// The fewest cached tokens worth loading, a whole number of blocks of
// `block_tokens` tokens and `block_bytes` bytes: the smallest hit whose saved
// prefill outweighs its costs, or kHitNeverPays.
int BreakEvenCachedTokens(const LlamaConfig& config, size_t block_bytes, int block_tokens,
                          const PrefixHitCosts& costs);

}  // namespace tierkv::core
