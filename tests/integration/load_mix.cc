#include "tests/integration/load_mix.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <latch>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tierkv/client.h"

namespace tierkv::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Out of 100: lookup, acquire (+ release), reserve + commit; the rest abort.
constexpr int kLookupPercent = 40;
constexpr int kAcquirePercent = 30;
constexpr int kCommitPercent = 25;
// Prompt p's tokens start at p * kTokensPerPrompt. Scratch prompts (reserved
// then aborted) start at kScratchBase, far from the key space; every token id
// stays below 2^32 (TokenId), so no scratch prompt aliases a real one.
constexpr TokenId kTokensPerPrompt = 1u << 12;
constexpr uint32_t kScratchBase = 1u << 19;
static_assert(uint64_t{2} * kScratchBase * kTokensPerPrompt <= (uint64_t{1} << 32));

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class Workload {
 public:
  Workload(const MixOptions& o, const Namespace& ns) : o_(o), ns_(ns) {}

  std::vector<TokenId> Tokens(uint32_t prompt) const {
    std::vector<TokenId> t(size_t{o_.blocks_per_prompt} * ns_.block_tokens);
    for (size_t i = 0; i < t.size(); ++i) t[i] = prompt * kTokensPerPrompt + 1 + i;
    return t;
  }
  // Block `block` of `prompt`: 8-byte words of a seeded hash.
  void Fill(uint32_t prompt, uint32_t block, std::span<std::byte> out) const {
    const uint64_t base = SplitMix(o_.seed ^ (uint64_t{prompt} << 20) ^ block);
    for (size_t i = 0; i + 8 <= out.size(); i += 8) {
      const uint64_t v = base + i;
      std::memcpy(out.data() + i, &v, 8);
    }
  }
  bool Check(uint32_t prompt, uint32_t block, std::span<const std::byte> got) const {
    std::vector<std::byte> want(got.size());
    Fill(prompt, block, want);
    return std::memcmp(want.data(), got.data(), got.size()) == 0;
  }

 private:
  const MixOptions& o_;
  const Namespace& ns_;
};

struct StartLine {
  explicit StartLine(uint32_t clients) : connected(clients) {}
  std::latch connected;
  std::latch go{1};
  Clock::time_point until;  // set before `go` opens
};

struct Shared {
  std::vector<std::atomic<bool>> committed;
  std::mutex mu;
  MixResult totals;
  std::vector<double> latencies_us;
  explicit Shared(size_t prompts) : committed(prompts) {}
};

class Worker {
 public:
  Worker(const MixOptions& o, Shared* shared, uint32_t index)
      : o_(o), shared_(shared), rng_(o.seed * 1000003 + index) {}

  // Connects, waits at the start line until every client has connected (so
  // connecting, which maps the pool, is not timed), then runs until the end.
  void Run(StartLine* line, const NamespaceSpec& spec) {
    ConnectOptions co;
    co.address = o_.address;
    auto client = Client::Connect(co);
    Result<Namespace> ns = client.ok() ? (*client)->OpenNamespace(spec)
                                       : Result<Namespace>(client.status());
    line->connected.count_down();
    line->go.wait();
    if (!ns.ok()) return Fail(ns.status());
    Workload work(o_, *ns);
    while (Clock::now() < line->until) {
      const int dice = static_cast<int>(rng_() % 100);
      const uint32_t prompt = static_cast<uint32_t>(rng_() % o_.prompts);
      if (dice < kLookupPercent) {
        Lookup(**client, *ns, work, prompt);
      } else if (dice < kLookupPercent + kAcquirePercent) {
        Acquire(**client, *ns, work, prompt);
      } else if (dice < kLookupPercent + kAcquirePercent + kCommitPercent) {
        Write(**client, *ns, work, prompt, true);
      } else {
        Write(**client, *ns, work, kScratchBase + static_cast<uint32_t>(rng_() % o_.prompts),
              false);
      }
    }
    std::lock_guard lock(shared_->mu);
    MixResult& t = shared_->totals;
    t.lookups += r_.lookups;
    t.acquires += r_.acquires;
    t.releases += r_.releases;
    t.reserves += r_.reserves;
    t.commits += r_.commits;
    t.aborts += r_.aborts;
    t.errors += r_.errors;
    t.corrupt += r_.corrupt;
    if (t.first_error.empty()) t.first_error = r_.first_error;
    shared_->latencies_us.insert(shared_->latencies_us.end(), latencies_.begin(), latencies_.end());
  }

 private:
  template <typename F>
  auto Timed(F&& f) {
    const auto t0 = Clock::now();
    auto out = f();
    latencies_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    return out;
  }
  void Fail(const Status& s) {
    ++r_.errors;
    if (r_.first_error.empty()) r_.first_error = s.ToString();
  }

  void Lookup(Client& c, const Namespace& ns, const Workload& w, uint32_t prompt) {
    const auto tokens = w.Tokens(prompt);
    const auto keys = ChainBlockKeys(ns.id, tokens, ns.block_tokens);
    ++r_.lookups;
    auto hit = Timed([&] { return c.Lookup(ns, keys, tokens); });
    if (!hit.ok()) Fail(hit.status());
  }

  void Acquire(Client& c, const Namespace& ns, const Workload& w, uint32_t prompt) {
    const auto tokens = w.Tokens(prompt);
    const auto keys = ChainBlockKeys(ns.id, tokens, ns.block_tokens);
    ++r_.acquires;
    auto lease = Timed([&] { return c.Acquire(ns, keys, tokens, o_.blocks_per_prompt); });
    if (!lease.ok()) return Fail(lease.status());
    for (size_t b = 0; b < lease->size(); ++b) {
      if (!w.Check(prompt, static_cast<uint32_t>(b), lease->payload(b))) ++r_.corrupt;
    }
    ++r_.releases;
    Status s = Timed([&] { return lease->Release(); });
    if (!s.ok()) Fail(s);
  }

  void Write(Client& c, const Namespace& ns, const Workload& w, uint32_t prompt, bool commit) {
    const auto tokens = w.Tokens(prompt);
    const auto keys = ChainBlockKeys(ns.id, tokens, ns.block_tokens);
    ++r_.reserves;
    auto res = Timed([&] { return c.Reserve(ns, ns.id, keys, tokens); });
    if (!res.ok()) return Fail(res.status());
    for (size_t b = 0; b < res->size(); ++b) {
      if (!res->payload(b).empty()) w.Fill(prompt, static_cast<uint32_t>(b), res->payload(b));
    }
    Status s;
    if (commit) {
      ++r_.commits;
      s = Timed([&] { return res->Commit(); });
      if (s.ok()) shared_->committed[prompt].store(true, std::memory_order_relaxed);
    } else {
      ++r_.aborts;
      s = Timed([&] { return res->Abort(); });
    }
    if (!s.ok()) Fail(s);
  }

  const MixOptions& o_;
  Shared* shared_;
  std::mt19937_64 rng_;
  MixResult r_;
  std::vector<double> latencies_;
};

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

NamespaceSpec MixSpec(const MixOptions& o) {
  NamespaceSpec spec;
  // One namespace per seed: a run with another seed never finds blocks that
  // an earlier run wrote with other bytes under the same tokens.
  spec.model_fingerprint = "load-mix-" + std::to_string(o.seed);
  spec.block_tokens = 16;
  spec.block_bytes = o.block_bytes;
  return spec;
}

}  // namespace

Result<MixResult> RunMix(const MixOptions& o) {
  if (o.prompts > kScratchBase || o.blocks_per_prompt * 16 > kTokensPerPrompt) {
    return Status::InvalidArgument("load mix: at most 2^19 prompts of 256 blocks");
  }
  const NamespaceSpec spec = MixSpec(o);
  Shared shared(o.prompts);
  StartLine line(o.clients);
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < o.clients; ++i) {
    workers.push_back(std::make_unique<Worker>(o, &shared, i));
  }
  for (const auto& w : workers) {
    threads.emplace_back([&line, &spec, worker = w.get()] { worker->Run(&line, spec); });
  }
  line.connected.wait();
  const auto start = Clock::now();
  line.until = start + o.duration;
  line.go.count_down();
  for (std::thread& t : threads) t.join();
  MixResult r = shared.totals;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.ops = shared.latencies_us.size();
  r.p50_us = Percentile(shared.latencies_us, 0.50);
  r.p99_us = Percentile(shared.latencies_us, 0.99);
  r.max_us = Percentile(shared.latencies_us, 1.0);

  // Every committed prompt must still be there, whole and byte-exact.
  ConnectOptions co;
  co.address = o.address;
  TIERKV_ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::Connect(co));
  TIERKV_ASSIGN_OR_RETURN(Namespace ns, client->OpenNamespace(spec));
  Workload work(o, ns);
  std::vector<std::byte> out(size_t{o.blocks_per_prompt} * o.block_bytes);
  for (uint32_t p = 0; p < o.prompts; ++p) {
    if (!shared.committed[p].load()) continue;
    ++r.committed_prompts;
    const auto tokens = work.Tokens(p);
    const auto keys = ChainBlockKeys(ns.id, tokens, ns.block_tokens);
    auto n = client->Get(ns, keys, tokens, out);
    bool exact = n.ok() && *n == o.blocks_per_prompt;
    for (uint32_t b = 0; exact && b < o.blocks_per_prompt; ++b) {
      exact = work.Check(p, b, std::span(out).subspan(size_t{b} * o.block_bytes, o.block_bytes));
    }
    if (!exact) ++r.lost_prompts;
  }
  return r;
}

}  // namespace tierkv::testing
