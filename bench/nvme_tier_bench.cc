#include "bench/nvme_tier_bench.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

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

struct ReadResult {
  double gbps = 0;
  Samples latency_us;  // per get
  uint64_t blocks = 0;
};

// Gets every prompt of `s` (blocks on NVMe only: each get promotes them) with
// `readers` clients at once, each on its own connection taking every
// readers-th prompt.
Result<ReadResult> ReadSet(const NvmeTierBenchOptions& o, const NamespaceSpec& spec, const Set& s,
                           uint32_t readers) {
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Namespace> namespaces;
  for (uint32_t r = 0; r < readers; ++r) {
    ConnectOptions co;
    co.address = o.address;
    co.touch_pool = true;  // as an engine does, and before the clock starts
    TIERKV_ASSIGN_OR_RETURN(auto c, Client::Connect(co));
    TIERKV_ASSIGN_OR_RETURN(Namespace ns, c->OpenNamespace(spec));
    clients.push_back(std::move(c));
    namespaces.push_back(ns);
  }
  ReadResult result;
  std::mutex mu;
  Status first_error;
  std::atomic<uint64_t> blocks{0};
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (uint32_t r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      std::vector<std::byte> out(o.batch * spec.block_bytes);
      Samples lat;
      Status status;
      for (size_t p = r; p < s.keys.size() && status.ok(); p += readers) {
        const auto g0 = Clock::now();
        auto n = clients[r]->Get(namespaces[r], s.keys[p], s.tokens[p], out);
        lat.Add(SecondsSince(g0) * 1e6);
        if (n.ok()) blocks += *n;
        status = n.status();
      }
      std::lock_guard lock(mu);
      result.latency_us.Merge(lat);
      if (first_error.ok()) first_error = status;
    });
  }
  for (auto& t : threads) t.join();
  TIERKV_RETURN_IF_ERROR(first_error);
  result.blocks = blocks.load();
  result.gbps = static_cast<double>(result.blocks * spec.block_bytes) / SecondsSince(t0) / 1e9;
  return result;
}

int Fail(const Status& s) {
  std::cerr << "tierkv-bench: " << s.ToString() << "\n";
  return 1;
}

}  // namespace

int RunNvmeTierBench(Client& client, const NvmeTierBenchOptions& o) {
  auto stats = client.GetStats();
  if (!stats.ok()) return Fail(stats.status());
  uint64_t host_bytes = 0;
  bool has_nvme = false;
  for (const TierStats& t : stats->tiers) {
    if (t.name == "host") host_bytes = t.capacity_bytes;
    has_nvme |= t.name == "nvme";
  }
  if (!has_nvme) {
    return Fail(Status::Unsupported("the daemon has no NVMe tier (start it with --nvme-bytes)"));
  }
  for (uint64_t bb : o.block_bytes) {
    NamespaceSpec spec;
    spec.model_fingerprint = "tierkv-bench-nvme";
    spec.block_tokens = kBlockTokens;
    spec.block_bytes = bb;
    auto ns = client.OpenNamespace(spec);
    if (!ns.ok()) return Fail(ns.status());
    // Two sets, each as large as the host tier: reading the first back after
    // the second was stored has to come from NVMe, and promoting the first
    // pushes the second out of the host tier (it is clean: flushed) in turn.
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
    auto one = ReadSet(o, spec, a, 1);  // a lives on NVMe only
    if (!one.ok()) return Fail(one.status());
    auto many = ReadSet(o, spec, b, o.readers);  // and now b does
    if (!many.ok()) return Fail(many.status());
    auto raw = MeasureRawIo(o.scratch_dir, bb, set_bytes / bb);
    if (!raw.ok()) return Fail(raw.status());
    if (auto e = client.Evict(&*ns); !e.ok()) return Fail(e.status());
    if (o.json) {
      std::cout << nlohmann::json{{"op", "nvme"},
                                  {"block_bytes", bb},
                                  {"write_gbps", write_gbps},
                                  {"read_gbps", one->gbps},
                                  {"read_p50_us", one->latency_us.Percentile(50)},
                                  {"read_p99_us", one->latency_us.Percentile(99)},
                                  {"readers", o.readers},
                                  {"readers_read_gbps", many->gbps},
                                  {"readers_read_p50_us", many->latency_us.Percentile(50)},
                                  {"readers_read_p99_us", many->latency_us.Percentile(99)},
                                  {"raw_write_gbps", raw->write_gbps},
                                  {"raw_read_gbps", raw->read_gbps},
                                  {"blocks_read_back", one->blocks + many->blocks},
                                  {"set_bytes", set_bytes}}
                       .dump()
                << std::endl;
    } else {
      std::printf(
          "nvme     block %8llu B  write %5.2f GB/s (raw %5.2f, %.2fx)  read, 1 client %5.2f "
          "GB/s (%.2fx)  %u clients %5.2f GB/s (%.2fx) of raw %5.2f  get p50 %.0f / %.0f us  set "
          "%llu MiB\n",
          static_cast<unsigned long long>(bb), write_gbps, raw->write_gbps,
          write_gbps / raw->write_gbps, one->gbps, one->gbps / raw->read_gbps, o.readers,
          many->gbps, many->gbps / raw->read_gbps, raw->read_gbps, one->latency_us.Percentile(50),
          many->latency_us.Percentile(50), static_cast<unsigned long long>(set_bytes >> 20));
    }
  }
  return 0;
}

}  // namespace tierkv::bench
