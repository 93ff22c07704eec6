// tierkv-bench: put/get/lookup throughput and latency against a running
// tierkvd, each printed beside the limit it is compared with, measured in the
// same run: for put and get, the same copies into and out of the same pool
// slots without the requests around them; for lookup, a bare round trip to
// another process over a Unix socket (bench/index_bench.h). Also key hashing
// speed and daemon memory per block. The fill and verify workloads store and
// re-check deterministic blocks for crash tests.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>

#include "base/byte_size.h"
#include "bench/bench_util.h"
#include "bench/index_bench.h"
#include "bench/nvme_tier_bench.h"
#include "bench/remote_tier_bench.h"
#include "bench/size_flag.h"
#include "bench/xxhash_shared.h"
#include "tierkv/client.h"

namespace tierkv::bench {
namespace {

constexpr uint32_t kBlockTokens = 16;
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
  std::vector<uint32_t> prefix_blocks = {1, 64, 256, 1024};
  size_t memory_blocks = 100000;
  uint32_t readers = 4;
};

struct Row {
  std::string op;
  uint64_t block_bytes = 0;
  double gbps = 0;
  double p50_us = 0;
  double p99_us = 0;
  double limit_gbps = 0;  // the same copies without the requests
  nlohmann::json extra = nlohmann::json::object();
};

void Print(const Options& o, const Row& r) {
  if (o.json) {
    nlohmann::json j = {{"op", r.op},         {"block_bytes", r.block_bytes},
                        {"gbps", r.gbps},     {"p50_us", r.p50_us},
                        {"p99_us", r.p99_us}, {"copy_limit_gbps", r.limit_gbps}};
    j.update(r.extra);
    std::cout << j.dump() << std::endl;
    return;
  }
  std::printf("%-8s block %8llu B  %7.2f GB/s  p50 %9.1f us  p99 %9.1f us", r.op.c_str(),
              static_cast<unsigned long long>(r.block_bytes), r.gbps, r.p50_us, r.p99_us);
  if (r.limit_gbps > 0) {
    std::printf("  | copy limit %6.2f GB/s  ratio %.2fx", r.limit_gbps, r.gbps / r.limit_gbps);
  }
  for (auto it = r.extra.begin(); it != r.extra.end(); ++it) {
    std::printf("  %s=%s", it.key().c_str(), it.value().dump().c_str());
  }
  std::printf("\n");
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

// What a pass times: whole requests (Client::Put and Client::Get), or only
// the copies they make, into and out of the same pool slots and the same
// reused buffer, with the requests around them left out of the clock. The
// second is the limit the first is compared with.
enum class Timing { kRequests, kCopiesOnly };

void FillRow(const Samples& lat_in, double busy_s, uint64_t bytes, Row* row) {
  if (!row) return;
  Samples lat = lat_in;
  row->gbps = static_cast<double>(bytes) / busy_s / 1e9;
  row->p50_us = lat.Percentile(50);
  row->p99_us = lat.Percentile(99);
}

// Client::Put's copy, as it makes it.
void CopyIntoReservation(Reservation& res, const std::vector<std::byte>& payload, uint64_t bb) {
  for (size_t i = 0; i < res.size(); ++i) {
    std::span<std::byte> dst = res.payload(i);
    if (!dst.empty()) std::memcpy(dst.data(), payload.data() + i * bb, dst.size());
  }
}

Status PutAll(Run& run, Timing timing, Row* row) {
  const uint64_t bb = run.ns.block_bytes;
  std::vector<std::byte> payload(run.o.batch * bb);
  Samples lat;
  double busy = 0;
  for (size_t p = 0; p < run.prompts; ++p) {
    const auto tokens = PromptTokens(run.o.seed, p, run.o.batch, kBlockTokens);
    const auto keys = ChainBlockKeys(run.ns.id, tokens, kBlockTokens);
    for (uint32_t b = 0; b < run.o.batch; ++b) {
      FillPattern(run.o.seed, p * run.o.batch + b, payload.data() + b * bb, bb);
    }
    double s = 0;
    if (timing == Timing::kRequests) {
      const auto t0 = Clock::now();
      TIERKV_RETURN_IF_ERROR(run.client->Put(run.ns, run.ns.id, keys, tokens, payload));
      s = SecondsSince(t0);
    } else {
      TIERKV_ASSIGN_OR_RETURN(Reservation res,
                              run.client->Reserve(run.ns, run.ns.id, keys, tokens));
      const auto t0 = Clock::now();
      CopyIntoReservation(res, payload, bb);
      s = SecondsSince(t0);
      TIERKV_RETURN_IF_ERROR(res.Commit());
    }
    busy += s;
    lat.Add(s * 1e6);
  }
  FillRow(lat, busy, run.blocks * bb, row);
  return Status::Ok();
}

struct VerifyCounts {
  uint64_t found = 0, missing = 0, corrupt = 0;
};

Status GetAll(Run& run, Timing timing, Row* row, VerifyCounts* counts) {
  const uint64_t bb = run.ns.block_bytes;
  std::vector<std::byte> out(run.o.batch * bb, std::byte{0}), want(counts ? bb : 0);
  Samples lat;
  double busy = 0;
  uint64_t bytes = 0;
  for (size_t p = 0; p < run.prompts; ++p) {
    const auto tokens = PromptTokens(run.o.seed, p, run.o.batch, kBlockTokens);
    const auto keys = ChainBlockKeys(run.ns.id, tokens, kBlockTokens);
    uint32_t n = 0;
    double s = 0;
    if (timing == Timing::kRequests) {
      const auto t0 = Clock::now();
      TIERKV_ASSIGN_OR_RETURN(n, run.client->Get(run.ns, keys, tokens, out));
      s = SecondsSince(t0);
    } else {
      TIERKV_ASSIGN_OR_RETURN(Lease lease, run.client->Acquire(run.ns, keys, tokens, run.o.batch));
      // Client::Get's copy, as it makes it.
      const auto t0 = Clock::now();
      for (size_t i = 0; i < lease.size(); ++i) {
        std::memcpy(out.data() + i * bb, lease.payload(i).data(), bb);
      }
      s = SecondsSince(t0);
      n = static_cast<uint32_t>(lease.size());
      TIERKV_RETURN_IF_ERROR(lease.Release());
    }
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
  FillRow(lat, busy, bytes, row);
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

// Put and get of every block size, each beside its copy limit; best of
// kPasses for both, since the VMs are noisy.
Status PutGetBench(const Options& o, Client* client, uint64_t bb) {
  TIERKV_ASSIGN_OR_RETURN(Run run, Setup(o, client, bb));
  Row put{"put", bb}, get{"get", bb};
  double put_limit = 0, get_limit = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    Row p, g, pl, gl;
    TIERKV_RETURN_IF_ERROR(client->Evict(&run.ns).status());
    TIERKV_RETURN_IF_ERROR(PutAll(run, Timing::kCopiesOnly, &pl));
    TIERKV_RETURN_IF_ERROR(GetAll(run, Timing::kCopiesOnly, &gl, nullptr));
    TIERKV_RETURN_IF_ERROR(client->Evict(&run.ns).status());
    TIERKV_RETURN_IF_ERROR(PutAll(run, Timing::kRequests, &p));
    TIERKV_RETURN_IF_ERROR(GetAll(run, Timing::kRequests, &g, nullptr));
    put_limit = std::max(put_limit, pl.gbps);
    get_limit = std::max(get_limit, gl.gbps);
    if (p.gbps > put.gbps) put = Row{"put", bb, p.gbps, p.p50_us, p.p99_us};
    if (g.gbps > get.gbps) get = Row{"get", bb, g.gbps, g.p50_us, g.p99_us};
  }
  put.limit_gbps = put_limit;
  get.limit_gbps = get_limit;
  for (Row* r : {&put, &get}) {
    r->extra = {{"blocks", run.blocks}, {"batch", o.batch}, {"passes", kPasses}};
    Print(o, *r);
  }
  return client->Evict(&run.ns).status();
}

Status FillOrVerify(const Options& o, Client* client, uint64_t bb) {
  TIERKV_ASSIGN_OR_RETURN(Run run, Setup(o, client, bb));
  if (o.workload == "fill") {
    TIERKV_RETURN_IF_ERROR(PutAll(run, Timing::kRequests, nullptr));
    if (o.json) {
      std::cout << nlohmann::json{{"workload", "fill"}, {"block_bytes", bb},
                                  {"blocks", run.blocks}, {"seed", o.seed}}.dump()
                << std::endl;
    } else {
      std::cout << "fill: " << run.blocks << " blocks of " << FormatBytes(bb)
                << " stored (seed " << o.seed << ")" << std::endl;
    }
    return Status::Ok();
  }
  VerifyCounts c;
  TIERKV_RETURN_IF_ERROR(GetAll(run, Timing::kRequests, nullptr, &c));
  if (o.json) {
    std::cout << nlohmann::json{{"workload", "verify"}, {"block_bytes", bb},
                                {"blocks", run.blocks},   {"found", c.found},
                                {"missing", c.missing},   {"corrupt", c.corrupt}}.dump()
              << std::endl;
  } else {
    std::cout << "verify: " << run.blocks << " blocks of " << FormatBytes(bb) << ": " << c.found
              << " found exact, " << c.missing << " missing, " << c.corrupt << " corrupt"
              << std::endl;
  }
  // A verify that finds less than the fill stored fails, whatever the reason.
  if (c.corrupt > 0 || c.missing > 0) {
    return Status::Corruption(std::to_string(c.missing) + " blocks missing, " +
                              std::to_string(c.corrupt) + " corrupt");
  }
  return Status::Ok();
}

int Main(const Options& o) {
  ConnectOptions co;
  co.address = o.socket;
  // As an engine does: the first touch of each pool page is not what the
  // copies are measured for.
  co.touch_pool = o.workload != "fill" && o.workload != "verify";
  auto client = Client::Connect(co);
  if (!client.ok()) return Fail(client.status());
  Client* c = client->get();
  if (o.tier == "nvme") {
    return RunNvmeTierBench(*c,
                            {o.socket, o.block_bytes, o.scratch_dir, o.batch, o.readers, o.json});
  }
  if (o.tier == "remote") {
    return RunRemoteTierBench(*c, {o.block_bytes, o.batch, uint64_t{256} << 20, o.json});
  }
  const bool all = o.workload == "all";
  Status s;
  if (o.workload == "fill" || o.workload == "verify") {
    for (uint64_t bb : o.block_bytes) {
      if (s = FillOrVerify(o, c, bb); !s.ok()) break;
    }
    if (s.code() == StatusCode::kCorruption) {
      std::cerr << "tierkv-bench: " << s.ToString() << "\n";
      return 3;
    }
    return s.ok() ? 0 : Fail(s);
  }
  // First, while the daemon has freed few entries whose heap it would reuse.
  if (all || o.workload == "memory") {
    s = RunMemoryBench(*c, {o.memory_blocks, o.seed, o.json});
  }
  if (s.ok() && (all || o.workload == "put-get")) {
    for (uint64_t bb : o.block_bytes) {
      if (s = PutGetBench(o, c, bb); !s.ok()) break;
    }
  }
  if (s.ok() && (all || o.workload == "put-get" || o.workload == "lookup")) {
    s = RunLookupBench(*c, {o.prefix_blocks, kLookupIterations, o.seed, o.json});
  }
  if (s.ok() && (all || o.workload == "hash")) HashBench(o);
  return s.ok() ? 0 : Fail(s);
}

}  // namespace
}  // namespace tierkv::bench

int main(int argc, char** argv) {
  tierkv::bench::Options o;
  CLI::App app{
      "tierkv-bench: measure a running tierkvd against its copy limit and bare round trips",
      "tierkv-bench"};
  app.add_option("--socket", o.socket, "Daemon address (path, unix:PATH or tcp:HOST:PORT)")
      ->capture_default_str();
  app.add_option("--workload", o.workload,
                 "all | put-get (put, get and lookup) | lookup | memory | hash | fill | verify")
      ->check(CLI::IsMember({"all", "put-get", "lookup", "memory", "hash", "fill", "verify"}))
      ->capture_default_str();
  app.add_option("--block-bytes", o.block_bytes,
                 "Block sizes, e.g. 64KiB 1MiB 4MiB (4 KiB to 64 MiB)")
      ->transform(tierkv::bench::ByteSizeFlag())
      ->check(CLI::Range(uint64_t{4096}, uint64_t{64} << 20))
      ->capture_default_str();
  app.add_option("--blocks", o.blocks, "Blocks per block size (default: 256 MiB worth)");
  app.add_option("--batch", o.batch, "Blocks per request (a prompt's length in blocks)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--prefix-blocks", o.prefix_blocks,
                 "Lookup: prefix lengths in blocks, one figure each beside a bare round trip")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--memory-blocks", o.memory_blocks,
                 "Memory: 4 KiB blocks to index (the host tier must hold them)")
      ->check(CLI::Range(size_t{1000}, size_t{1} << 24))
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed for prompts and payloads")->capture_default_str();
  app.add_flag("--json", o.json, "One JSON object per line");
  app.add_option("--tier", o.tier,
                 "host: the CPU tier (default); nvme: NVMe tier read/write beside raw io_uring; "
                 "remote: the remote tier's put and get (limit: tierkv-remote-bench --url)")
      ->check(CLI::IsMember({"host", "nvme", "remote"}))
      ->capture_default_str();
  app.add_option("--readers", o.readers,
                 "--tier nvme: clients reading at once in the second read pass")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--scratch-dir", o.scratch_dir,
                 "--tier nvme: where the raw io_uring file goes (the daemon's disk)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return tierkv::bench::Main(o);
}
