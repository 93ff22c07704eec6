#include "bench/remote_tier_bench.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>

#include "bench/bench_util.h"

namespace tierkv::bench {
namespace {

constexpr uint32_t kBlockTokens = 16;
// How often the put phase reads the daemon's remote counters.
constexpr auto kPollInterval = std::chrono::milliseconds(2);
// A put phase whose writes do not all land within this is reported failed.
constexpr auto kWriteDeadline = std::chrono::seconds(300);

int Fail(const Status& s) {
  std::cerr << "tierkv-bench: " << s.ToString() << "\n";
  return 1;
}

Result<RemoteTierStats> RemoteRow(Client& client) {
  TIERKV_ASSIGN_OR_RETURN(Stats stats, client.GetStats());
  for (const TierStats& t : stats.tiers) {
    if (t.name == "remote" && t.remote) return *t.remote;
  }
  return Status::Unsupported("the daemon has no remote tier (start it with --remote-url)");
}

Result<uint64_t> HostCapacity(Client& client) {
  TIERKV_ASSIGN_OR_RETURN(Stats stats, client.GetStats());
  for (const TierStats& t : stats.tiers) {
    if (t.name == "host") return t.capacity_bytes;
  }
  return Status::Internal("the daemon reports no host tier");
}

struct Prompts {
  std::vector<std::vector<TokenId>> tokens;
  std::vector<std::vector<Key128>> keys;
};

Prompts MakePrompts(const Namespace& ns, size_t prompts, uint32_t batch) {
  Prompts p;
  for (size_t i = 0; i < prompts; ++i) {
    std::vector<TokenId> t(batch * kBlockTokens);
    for (size_t j = 0; j < t.size(); ++j) t[j] = static_cast<TokenId>(1 + i * t.size() + j);
    p.keys.push_back(ChainBlockKeys(ns.id, t, kBlockTokens));
    p.tokens.push_back(std::move(t));
  }
  return p;
}

}  // namespace

int RunRemoteTierBench(Client& client, const RemoteTierBenchOptions& o) {
  auto before = RemoteRow(client);
  if (!before.ok()) return Fail(before.status());
  if (before->write_policy != "through") {
    return Fail(Status::Unsupported("the bench measures write-through (remote_write = through)"));
  }
  auto host = HostCapacity(client);
  if (!host.ok()) return Fail(host.status());
  for (uint64_t bb : o.block_bytes) {
    NamespaceSpec spec;
    spec.model_fingerprint = "tierkv-bench-remote";
    spec.block_tokens = kBlockTokens;
    spec.block_bytes = bb;
    auto ns = client.OpenNamespace(spec);
    if (!ns.ok()) return Fail(ns.status());
    const uint64_t set_bytes = std::min(o.set_bytes, *host / 2);
    const size_t prompts = std::max<size_t>(1, set_bytes / bb / o.batch);
    const uint64_t blocks = prompts * o.batch;
    const Prompts set = MakePrompts(*ns, prompts, o.batch);
    std::vector<std::byte> payload(o.batch * bb, std::byte{7});

    auto start = RemoteRow(client);
    if (!start.ok()) return Fail(start.status());
    const auto t0 = Clock::now();
    for (size_t p = 0; p < prompts; ++p) {
      FillPattern(p, 0, payload.data(), 64);  // distinct bytes per prompt, cheap
      if (Status s = client.Put(*ns, ns->id, set.keys[p], set.tokens[p], payload); !s.ok()) {
        return Fail(s);
      }
    }
    std::optional<RemoteTierStats> now;
    for (;;) {
      auto row = RemoteRow(client);
      if (!row.ok()) return Fail(row.status());
      now = *row;
      const uint64_t settled = (now->blocks_written - start->blocks_written) +
                               (now->write_overflows - start->write_overflows);
      if (settled >= blocks && now->write_bytes_queued == 0) break;
      if (Clock::now() - t0 > kWriteDeadline) {
        return Fail(Status::Unavailable("remote writes did not settle in time"));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    const double put_s = SecondsSince(t0);
    const uint64_t written = now->blocks_written - start->blocks_written;
    const uint64_t overflows = now->write_overflows - start->write_overflows;
    // Gone from the local tiers: every get reads the remote tier.
    if (auto e = client.Evict(&*ns); !e.ok()) return Fail(e.status());
    std::vector<std::byte> out(o.batch * bb);
    Samples latency_us;
    uint64_t read = 0;
    const auto g0 = Clock::now();
    for (size_t p = 0; p < prompts; ++p) {
      const auto r0 = Clock::now();
      auto n = client.Get(*ns, set.keys[p], set.tokens[p], out);
      latency_us.Add(SecondsSince(r0) * 1e6);
      if (!n.ok()) return Fail(n.status());
      read += *n;
    }
    const double get_s = SecondsSince(g0);
    const double put_gbps = static_cast<double>(written * bb) / put_s / 1e9;
    const double get_gbps = static_cast<double>(read * bb) / get_s / 1e9;
    if (auto e = client.Evict(&*ns); !e.ok()) return Fail(e.status());
    if (o.json) {
      std::cout << nlohmann::json{{"op", "remote"},
                                  {"block_bytes", bb},
                                  {"put_gbps", put_gbps},
                                  {"get_gbps", get_gbps},
                                  {"get_p50_us", latency_us.Percentile(50)},
                                  {"get_p99_us", latency_us.Percentile(99)},
                                  {"blocks", blocks},
                                  {"blocks_written", written},
                                  {"write_overflows", overflows},
                                  {"blocks_read_back", read}}
                       .dump()
                << std::endl;
    } else {
      std::printf(
          "remote   block %8llu B  put %5.2f GB/s (%llu of %llu written, %llu overflowed)  get "
          "%5.2f GB/s (%llu blocks read back)  get p50 %.0f us p99 %.0f us\n",
          static_cast<unsigned long long>(bb), put_gbps, static_cast<unsigned long long>(written),
          static_cast<unsigned long long>(blocks), static_cast<unsigned long long>(overflows),
          get_gbps, static_cast<unsigned long long>(read), latency_us.Percentile(50),
          latency_us.Percentile(99));
    }
  }
  return 0;
}

}  // namespace tierkv::bench
