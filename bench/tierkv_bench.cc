// tierkv-bench: put/get/lookup throughput and latency against a running
// tierkvd, each printed beside the limit it is compared with (single-thread
// memcpy over the same working set; a bare round trip over the same kind of
// socket), plus key hashing speed and daemon memory per block. The fill and
// verify workloads store and re-check deterministic blocks for crash tests.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>

#include "bench/bench_util.h"
#include "bench/nvme_tier_bench.h"
#include "bench/xxhash_shared.h"
#include "tierkv/client.h"

namespace tierkv::bench {
namespace {

constexpr uint32_t kBlockTokens = 16;
constexpr uint32_t kLookupPrefixBlocks = 64;
constexpr int kLookupIterations = 2000;
constexpr size_t kHashTokens = 1 << 20;
constexpr int kPasses = 3;
constexpr size_t kLongInputBytes = 64 * 1024;

struct Options {
  std::string socket = "/tmp/tierkv.sock";
  std::string workload = "all";
  std::vector<uint64_t> block_bytes = {1 << 20};
  size_t blocks = 0;  // 0: about 256 MiB worth
  uint32_t batch = 16;
  uint64_t seed = 1;
  bool json = false;
  std::string tier = "host";
  std::string scratch_dir = "/var/tmp/tierkv";
};

struct Row {
  std::string op;
  uint64_t block_bytes = 0;
  double gbps = 0;
  double p50_us = 0;
  double p99_us = 0;
  double memcpy_gbps = 0;
  nlohmann::json extra = nlohmann::json::object();
};

void Print(const Options& o, const Row& r) {
  if (o.json) {
    nlohmann::json j = {{"op", r.op},         {"block_bytes", r.block_bytes},
                        {"gbps", r.gbps},     {"p50_us", r.p50_us},
                        {"p99_us", r.p99_us}, {"memcpy_gbps", r.memcpy_gbps}};
    j.update(r.extra);
    std::cout << j.dump() << std::endl;
    return;
  }
  std::printf("%-8s block %8llu B  %7.2f GB/s  p50 %9.1f us  p99 %9.1f us", r.op.c_str(),
              static_cast<unsigned long long>(r.block_bytes), r.gbps, r.p50_us, r.p99_us);
  if (r.memcpy_gbps > 0) {
    std::printf("  | memcpy %6.2f GB/s  ratio %.2fx", r.memcpy_gbps, r.gbps / r.memcpy_gbps);
  }
  for (auto it = r.extra.begin(); it != r.extra.end(); ++it) {
    std::printf("  %s=%s", it.key().c_str(), it.value().dump().c_str());
  }
  std::printf("\n");
}

// The tokens of prompt `p` of a run seeded by `seed`: distinct per prompt.
std::vector<TokenId> PromptTokens(uint64_t seed, size_t p, size_t blocks) {
  std::vector<TokenId> t(blocks * kBlockTokens);
  std::mt19937 rng(static_cast<uint32_t>(seed * 1000003 + p));
  for (auto& x : t) x = rng() % 32000;
  t[0] = static_cast<TokenId>(p);  // distinct first block per prompt
  return t;
}

int Fail(const Status& s) {
  std::cerr << "tierkv-bench: " << s.ToString() << "\n";
  return 1;
}

struct Run {
  Options o;
  Client* client;
  Namespace ns;
  size_t blocks;
  size_t prompts;
};

Result<Run> Setup(const Options& o, Client* client, uint64_t block_bytes) {
  NamespaceSpec spec;
  spec.model_fingerprint = "tierkv-bench";
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = block_bytes;
  TIERKV_ASSIGN_OR_RETURN(Namespace ns, client->OpenNamespace(spec));
  size_t blocks = o.blocks ? o.blocks : std::max<size_t>(o.batch, (256ull << 20) / block_bytes);
  blocks = (blocks + o.batch - 1) / o.batch * o.batch;
  return Run{o, client, ns, blocks, blocks / o.batch};
}

Status PutAll(Run& run, Row* row) {
  const uint64_t bb = run.ns.block_bytes;
  std::vector<std::byte> payload(run.o.batch * bb);
  Samples lat;
  double busy = 0;
  for (size_t p = 0; p < run.prompts; ++p) {
    const auto tokens = PromptTokens(run.o.seed, p, run.o.batch);
    const auto keys = ChainBlockKeys(run.ns.id, tokens, kBlockTokens);
    for (uint32_t b = 0; b < run.o.batch; ++b) {
      FillPattern(run.o.seed, p * run.o.batch + b, payload.data() + b * bb, bb);
    }
    const auto t0 = Clock::now();
    TIERKV_RETURN_IF_ERROR(run.client->Put(run.ns, run.ns.id, keys, tokens, payload));
    const double s = SecondsSince(t0);
    busy += s;
    lat.Add(s * 1e6);
  }
  if (row) {
    row->gbps = static_cast<double>(run.blocks * bb) / busy / 1e9;
    row->p50_us = lat.Percentile(50);
    row->p99_us = lat.Percentile(99);
  }
  return Status::Ok();
}

struct VerifyCounts {
  uint64_t found = 0, missing = 0, corrupt = 0;
};

Status GetAll(Run& run, bool verify, Row* row, VerifyCounts* counts) {
  const uint64_t bb = run.ns.block_bytes;
  std::vector<std::byte> out(run.o.batch * bb, std::byte{0}), want(verify ? bb : 0);
  Samples lat;
  double busy = 0;
  uint64_t bytes = 0;
  for (size_t p = 0; p < run.prompts; ++p) {
    const auto tokens = PromptTokens(run.o.seed, p, run.o.batch);
    const auto keys = ChainBlockKeys(run.ns.id, tokens, kBlockTokens);
    const auto t0 = Clock::now();
    TIERKV_ASSIGN_OR_RETURN(uint32_t n, run.client->Get(run.ns, keys, tokens, out));
    const double s = SecondsSince(t0);
    busy += s;
    lat.Add(s * 1e6);
    bytes += n * bb;
    if (counts) {
      counts->missing += run.o.batch - n;
      for (uint32_t b = 0; b < n; ++b) {
        FillPattern(run.o.seed, p * run.o.batch + b, want.data(), bb);
        const bool ok = std::memcmp(out.data() + b * bb, want.data(), bb) == 0;
        (ok ? counts->found : counts->corrupt)++;
      }
    }
  }
  if (row) {
    row->gbps = static_cast<double>(bytes) / busy / 1e9;
    row->p50_us = lat.Percentile(50);
    row->p99_us = lat.Percentile(99);
  }
  return Status::Ok();
}

Status LookupBench(Run& run, Row* row, Samples* bare) {
  // One stored 64-block prefix, looked up again and again.
  const auto tokens = PromptTokens(run.o.seed + 7777, 0, kLookupPrefixBlocks);
  const auto keys = ChainBlockKeys(run.ns.id, tokens, kBlockTokens);
  std::vector<std::byte> payload(kLookupPrefixBlocks * run.ns.block_bytes, std::byte{3});
  TIERKV_RETURN_IF_ERROR(run.client->Put(run.ns, run.ns.id, keys, tokens, payload));
  Samples lat;
  for (int i = 0; i < kLookupIterations; ++i) {
    const auto t0 = Clock::now();
    TIERKV_ASSIGN_OR_RETURN(LookupResult r, run.client->Lookup(run.ns, keys, tokens));
    lat.Add(SecondsSince(t0) * 1e6);
    if (r.matched_blocks != kLookupPrefixBlocks) {
      return Status::Internal("lookup matched " + std::to_string(r.matched_blocks) + " of 64");
    }
  }
  *bare = MeasureBareRoundTrips(64, kLookupIterations);
  row->p50_us = lat.Percentile(50);
  row->p99_us = lat.Percentile(99);
  row->extra = {{"prefix_blocks", kLookupPrefixBlocks},
                {"bare_rt_p50_us", bare->Percentile(50)},
                {"bare_rt_p99_us", bare->Percentile(99)},
                {"p50_vs_bare", row->p50_us / bare->Percentile(50)}};
  return Status::Ok();
}

void HashBench(const Options& o) {
  std::vector<TokenId> tokens(kHashTokens);
  std::mt19937 rng(1);
  for (auto& t : tokens) t = rng() % 32000;
  double inline_best = 0, shared_best = 0, long_inline = 0, long_shared = 0;
  uint64_t sink = 0;
  const auto* bytes = reinterpret_cast<const std::byte*>(tokens.data());
  for (int pass = 0; pass < 5; ++pass) {
    // Block keys as the client computes them: 16 tokens after a 16-byte parent.
    auto t0 = Clock::now();
    Key128 parent{1, 2};
    for (size_t i = 0; i + kBlockTokens <= tokens.size(); i += kBlockTokens) {
      parent = NextBlockKey(parent, std::span(tokens).subspan(i, kBlockTokens));
    }
    inline_best = std::max(inline_best, kHashTokens / SecondsSince(t0));
    sink ^= parent.lo;
    t0 = Clock::now();
    sink ^= ChainKeysSharedLib(tokens.data(), tokens.size(), kBlockTokens);
    shared_best = std::max(shared_best, kHashTokens / SecondsSince(t0));
    // Long inputs (64 KiB), where the header-inlined build's SIMD shows.
    const size_t total = tokens.size() * sizeof(TokenId);
    t0 = Clock::now();
    for (size_t off = 0; off + kLongInputBytes <= total; off += kLongInputBytes) {
      sink ^= PayloadChecksum({bytes + off, kLongInputBytes});
    }
    long_inline = std::max(long_inline, total / SecondsSince(t0) / 1e9);
    t0 = Clock::now();
    sink ^= ChecksumSharedLib(bytes, total, kLongInputBytes);
    long_shared = std::max(long_shared, total / SecondsSince(t0) / 1e9);
  }
  Row row;
  row.op = "hash";
  row.extra = {{"block_tokens", kBlockTokens},
               {"tokens_per_s", inline_best},
               {"shared_lib_tokens_per_s", shared_best},
               {"long_input_gbps", long_inline},
               {"long_input_shared_lib_gbps", long_shared},
               {"sink", sink & 1}};
  Print(o, row);
}

Status MemoryBench(const Options& o, Client* client) {
  // Daemon private memory per indexed block: many small blocks, so the pool
  // is not what limits the count.
  NamespaceSpec spec;
  spec.model_fingerprint = "tierkv-bench-memory";
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = 4096;
  TIERKV_ASSIGN_OR_RETURN(Namespace ns, client->OpenNamespace(spec));
  TIERKV_ASSIGN_OR_RETURN(Stats before, client->GetStats());
  const size_t prompts = 2000, per = 32;
  std::vector<std::byte> payload(per * 4096);
  for (size_t p = 0; p < prompts; ++p) {
    const auto tokens = PromptTokens(o.seed + 31337, p, per);
    const auto keys = ChainBlockKeys(ns.id, tokens, kBlockTokens);
    TIERKV_RETURN_IF_ERROR(client->Put(ns, ns.id, keys, tokens, payload));
  }
  TIERKV_ASSIGN_OR_RETURN(Stats after, client->GetStats());
  const auto b = nlohmann::json::parse(before.raw_json), a = nlohmann::json::parse(after.raw_json);
  const double blocks = a.value("indexed_blocks", 0.0) - b.value("indexed_blocks", 0.0);
  const double bytes = a.value("rss_anon_bytes", 0.0) - b.value("rss_anon_bytes", 0.0);
  Row row;
  row.op = "memory";
  row.block_bytes = 4096;
  row.extra = {{"indexed_blocks_added", blocks},
               {"daemon_bytes_per_block", blocks > 0 ? bytes / blocks : 0}};
  Print(o, row);
  auto evicted = client->Evict(&ns);
  return evicted.ok() ? Status::Ok() : evicted.status();
}

int Main(const Options& o) {
  ConnectOptions co;
  co.address = o.socket;
  auto client = Client::Connect(co);
  if (!client.ok()) return Fail(client.status());
  if (o.tier == "nvme") {
    return RunNvmeTierBench(**client, {o.block_bytes, o.scratch_dir, o.batch, o.json});
  }
  if (o.workload == "hash") {
    HashBench(o);
    return 0;
  }
  for (uint64_t bb : o.block_bytes) {
    auto run = Setup(o, client->get(), bb);
    if (!run.ok()) return Fail(run.status());
    if (o.workload == "fill") {
      if (Status s = PutAll(*run, nullptr); !s.ok()) return Fail(s);
      nlohmann::json j = {{"workload", "fill"}, {"block_bytes", bb}, {"blocks", run->blocks},
                          {"seed", o.seed}};
      std::cout << j.dump() << std::endl;
      continue;
    }
    if (o.workload == "verify") {
      VerifyCounts c;
      if (Status s = GetAll(*run, true, nullptr, &c); !s.ok()) return Fail(s);
      nlohmann::json j = {{"workload", "verify"}, {"block_bytes", bb}, {"blocks", run->blocks},
                          {"found", c.found}, {"missing", c.missing}, {"corrupt", c.corrupt}};
      std::cout << j.dump() << std::endl;
      if (c.corrupt > 0) return 3;
      continue;
    }
    // Best of kPasses for both the store and memcpy: the VMs are noisy.
    const double memcpy_gbps = MeasureMemcpyGbps(bb, run->blocks, kPasses);
    Row put{"put", bb}, get{"get", bb};
    for (int pass = 0; pass < kPasses; ++pass) {
      auto evicted = (*client)->Evict(&run->ns);
      if (!evicted.ok()) return Fail(evicted.status());
      Row p, g;
      if (Status s = PutAll(*run, &p); !s.ok()) return Fail(s);
      if (Status s = GetAll(*run, false, &g, nullptr); !s.ok()) return Fail(s);
      if (p.gbps > put.gbps) put = Row{"put", bb, p.gbps, p.p50_us, p.p99_us};
      if (g.gbps > get.gbps) get = Row{"get", bb, g.gbps, g.p50_us, g.p99_us};
    }
    for (Row* r : {&put, &get}) {
      r->memcpy_gbps = memcpy_gbps;
      r->extra = {{"blocks", run->blocks}, {"batch", o.batch}, {"passes", kPasses}};
      Print(o, *r);
    }
    Row lookup{"lookup", bb};
    Samples bare;
    if (Status s = LookupBench(*run, &lookup, &bare); !s.ok()) return Fail(s);
    Print(o, lookup);
    auto evicted = (*client)->Evict(&run->ns);
    if (!evicted.ok()) return Fail(evicted.status());
  }
  if (o.workload == "all") {
    HashBench(o);
    if (Status s = MemoryBench(o, client->get()); !s.ok()) return Fail(s);
  }
  return 0;
}

}  // namespace
}  // namespace tierkv::bench

int main(int argc, char** argv) {
  tierkv::bench::Options o;
  CLI::App app{"tierkv-bench: measure a running tierkvd against memcpy and bare round trips",
               "tierkv-bench"};
  app.add_option("--socket", o.socket, "Daemon address (path, unix:PATH or tcp:HOST:PORT)")
      ->capture_default_str();
  app.add_option("--workload", o.workload, "all | put-get (no hash/memory) | hash | fill | verify")
      ->check(CLI::IsMember({"all", "put-get", "hash", "fill", "verify"}))
      ->capture_default_str();
  app.add_option("--block-bytes", o.block_bytes, "Block sizes in bytes (64 KiB to 4 MiB)")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{64} << 20))
      ->capture_default_str();
  app.add_option("--blocks", o.blocks, "Blocks per block size (default: 256 MiB worth)");
  app.add_option("--batch", o.batch, "Blocks per request (a prompt's length in blocks)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed for prompts and payloads")->capture_default_str();
  app.add_flag("--json", o.json, "One JSON object per line");
  app.add_option("--tier", o.tier,
                 "host: the CPU tier (default); nvme: NVMe tier read/write beside raw io_uring")
      ->check(CLI::IsMember({"host", "nvme"}))
      ->capture_default_str();
  app.add_option("--scratch-dir", o.scratch_dir,
                 "--tier nvme: where the raw io_uring file goes (the daemon's disk)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return tierkv::bench::Main(o);
}
