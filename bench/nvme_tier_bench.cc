#include "bench/nvme_tier_bench.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "bench/bench_util.h"
#include "bench/raw_io.h"

namespace tierkv::bench {
namespace {

constexpr uint32_t kBlockTokens = 16;

struct Set {
  std::vector<std::vector<TokenId>> tokens;  // per prompt
  std::vector<std::vector<Key128>> keys;
};

Set MakeSet(const Namespace& ns, size_t prompts, uint32_t batch, TokenId base) {
  Set s;
  for (size_t p = 0; p < prompts; ++p) {
    std::vector<TokenId> t(batch * kBlockTokens);
    for (size_t i = 0; i < t.size(); ++i) t[i] = base + static_cast<TokenId>(p * t.size() + i);
    s.keys.push_back(ChainBlockKeys(ns.id, t, kBlockTokens));
    s.tokens.push_back(std::move(t));
  }
  return s;
}

Status PutSet(Client& c, const Namespace& ns, const Set& s, std::vector<std::byte>& payload) {
  for (size_t p = 0; p < s.keys.size(); ++p) {
    FillPattern(p, 0, payload.data(), 64);  // distinct bytes per prompt, cheap
    TIERKV_RETURN_IF_ERROR(c.Put(ns, ns.id, s.keys[p], s.tokens[p], payload));
  }
  return Status::Ok();
}

int Fail(const Status& s) {
  std::cerr << "tierkv-bench: " << s.ToString() << "\n";
  return 1;
}

}  // namespace

int RunNvmeTierBench(Client& client, const NvmeTierBenchOptions& o) {
  auto stats = client.GetStats();
  if (!stats.ok()) return Fail(stats.status());
  if (stats->tiers.size() < 2 || stats->tiers[1].name != "nvme") {
    return Fail(Status::Unsupported("the daemon has no NVMe tier (start it with --nvme-bytes)"));
  }
  const uint64_t host_bytes = stats->tiers[0].capacity_bytes;
  for (uint64_t bb : o.block_bytes) {
    NamespaceSpec spec;
    spec.model_fingerprint = "tierkv-bench-nvme";
    spec.block_tokens = kBlockTokens;
    spec.block_bytes = bb;
    auto ns = client.OpenNamespace(spec);
    if (!ns.ok()) return Fail(ns.status());
    // Two sets, each as large as the host tier: reading the first back after
    // the second was stored has to come from NVMe.
    const size_t prompts = std::max<size_t>(1, host_bytes / bb / o.batch);
    const uint64_t set_bytes = prompts * o.batch * bb;
    const Set a = MakeSet(*ns, prompts, o.batch, 1);
    const Set b = MakeSet(*ns, prompts, o.batch, 1u << 30);
    std::vector<std::byte> payload(o.batch * bb, std::byte{7});
    if (Status s = PutSet(client, *ns, a, payload); !s.ok()) return Fail(s);
    auto t0 = Clock::now();
    auto flushed = client.Flush();
    if (!flushed.ok()) return Fail(flushed.status());
    const double write_gbps = *flushed * bb / SecondsSince(t0) / 1e9;
    if (Status s = PutSet(client, *ns, b, payload); !s.ok()) return Fail(s);
    if (auto f = client.Flush(); !f.ok()) return Fail(f.status());
    // Set a now lives on NVMe only: every get promotes.
    std::vector<std::byte> out(o.batch * bb);
    uint64_t read_bytes = 0;
    Samples lat;
    t0 = Clock::now();
    for (size_t p = 0; p < prompts; ++p) {
      const auto g0 = Clock::now();
      auto n = client.Get(*ns, a.keys[p], a.tokens[p], out);
      if (!n.ok()) return Fail(n.status());
      lat.Add(SecondsSince(g0) * 1e6);
      read_bytes += *n * bb;
    }
    const double read_gbps = read_bytes / SecondsSince(t0) / 1e9;
    auto raw = MeasureRawIo(o.scratch_dir, bb, set_bytes / bb);
    if (!raw.ok()) return Fail(raw.status());
    if (auto e = client.Evict(&*ns); !e.ok()) return Fail(e.status());
    if (o.json) {
      std::cout << nlohmann::json{{"op", "nvme"},
                                  {"block_bytes", bb},
                                  {"write_gbps", write_gbps},
                                  {"read_gbps", read_gbps},
                                  {"read_p50_us", lat.Percentile(50)},
                                  {"read_p99_us", lat.Percentile(99)},
                                  {"raw_write_gbps", raw->write_gbps},
                                  {"raw_read_gbps", raw->read_gbps},
                                  {"blocks_read_back", read_bytes / bb},
                                  {"set_bytes", set_bytes}}
                       .dump()
                << std::endl;
    } else {
      std::printf("nvme     block %8llu B  write %5.2f GB/s (raw %5.2f, %.2fx)  read %5.2f GB/s "
                  "(raw %5.2f, %.2fx)  get p50 %.0f us p99 %.0f us  set %llu MiB\n",
                  static_cast<unsigned long long>(bb), write_gbps, raw->write_gbps,
                  write_gbps / raw->write_gbps, read_gbps, raw->read_gbps,
                  read_gbps / raw->read_gbps, lat.Percentile(50), lat.Percentile(99),
                  static_cast<unsigned long long>(set_bytes >> 20));
    }
  }
  return 0;
}

}  // namespace tierkv::bench
