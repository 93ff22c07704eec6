// Runs a LlamaModel's forward pass over a paged KV sequence on the CPU.
//
// Prefill takes all new tokens at once: every projection is one sgemm over
// the whole batch, and attention reads the sequence's cached pages (a prefix
// loaded from tierkvd, or earlier turns) plus the new tokens' own K/V. Decode
// is the same call with one token.
//
// Thread safety: a runner owns scratch buffers; use one per thread.
#pragma once

#include <span>
#include <vector>

#include "core/kv_cache.h"
#include "core/llama_model.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

enum class LogitsMode {
  kLast,  // logits of the last new token only: [vocab]
  kAll,   // logits of every new token: [n_tokens][vocab]
};

// The checks every runner's Forward makes before touching a page: at least
// one token, the sequence within the model's context, every token in the
// vocabulary. InvalidArgument naming the offender otherwise.
Status CheckForwardTokens(const LlamaConfig& config, int n_past, std::span<const TokenId> tokens);

class LlamaRunner {
 public:
  explicit LlamaRunner(const LlamaModel& model) : model_(model) {}

  // Appends `tokens` at positions seq.n_tokens() onward: writes their K/V into
  // the sequence's pages (reserving pages as needed), advances seq.n_tokens(),
  // and fills `logits`. InvalidArgument for an out-of-vocabulary token or a
  // sequence longer than the model's context; ResourceExhausted when the pool
  // has no free page.
  Status Forward(KvSequence& seq, std::span<const TokenId> tokens, LogitsMode mode,
                 std::vector<float>* logits);

 private:
  void Attention(int layer, KvSequence& seq, int n_new, int n_past);

  const LlamaModel& model_;
  // Scratch, sized for the largest batch seen so far.
  std::vector<float> x_, h_, q_, k_, v_, att_, gate_, up_;
  std::vector<int32_t> positions_;
};

}  // namespace tierkv::core
