#include "core/shared_prefix_workload.h"

#include <algorithm>
#include <random>

namespace tierkv::core {
namespace {

// Ids below this are the tokenizer's special and byte tokens; prompts avoid them.
constexpr TokenId kFirstTextToken = 259;

std::vector<TokenId> RandomTokens(std::mt19937_64& rng, int n, int vocab) {
  const TokenId lo = vocab > static_cast<int>(kFirstTextToken) ? kFirstTextToken : 0;
  std::uniform_int_distribution<TokenId> dist(lo, static_cast<TokenId>(vocab - 1));
  std::vector<TokenId> t(n);
  for (TokenId& x : t) x = dist(rng);
  return t;
}

}  // namespace

double PassStats::mean_ttft_ms() const {
  double sum = 0;
  for (const RequestStats& r : requests) sum += r.ttft_ms;
  return requests.empty() ? 0.0 : sum / requests.size();
}

double PassStats::percentile_ttft_ms(double p) const {
  if (requests.empty()) return 0.0;
  std::vector<double> v;
  for (const RequestStats& r : requests) v.push_back(r.ttft_ms);
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

double PassStats::hit_rate() const {
  double prompt = 0, cached = 0;
  for (const RequestStats& r : requests) {
    prompt += r.prompt_tokens;
    cached += r.cached_tokens;
  }
  return prompt > 0 ? cached / prompt : 0.0;
}

double PassStats::mean_decode_tokens_per_s() const {
  double sum = 0;
  int n = 0;
  for (const RequestStats& r : requests) {
    if (r.decode_tokens_per_s > 0) {
      sum += r.decode_tokens_per_s;
      ++n;
    }
  }
  return n ? sum / n : 0.0;
}

Result<PassStats> RunSharedPrefixWorkload(GenerateEngine& engine, const WorkloadOptions& o,
                                          int vocab) {
  std::mt19937_64 rng(o.seed);
  const std::vector<TokenId> system = RandomTokens(rng, o.system_tokens, vocab);
  PassStats stats;
  for (int c = 0; c < o.conversations; ++c) {
    std::vector<TokenId> history = system;
    for (int t = 0; t < o.turns; ++t) {
      const std::vector<TokenId> user = RandomTokens(rng, o.user_tokens, vocab);
      history.insert(history.end(), user.begin(), user.end());
      auto r = engine.Generate(history, {.max_new_tokens = o.answer_tokens, .sampling = {}});
      if (!r.ok()) return r.status();
      stats.requests.push_back(
          {static_cast<int>(history.size()), r->cached_tokens, r->ttft_ms, r->decode_tokens_per_s});
      history.insert(history.end(), r->tokens.begin(), r->tokens.end());
    }
  }
  return stats;
}

}  // namespace tierkv::core
