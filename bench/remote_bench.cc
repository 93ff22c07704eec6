// tierkv-remote-bench: pipelined SET and GET of block values through the
// remote tier's client (RemoteStore: value header, checksum, verification on
// read, copy into the caller's buffer, one I/O thread) beside the limit: the
// same keys and value sizes through plain hiredis, one blocking connection and
// one thread per master, pipelined in waves of --depth; and, for reference,
// redis-benchmark on the same servers. Same Redis, same run, alternating.
//
// Without --url it starts a 3-master, 3-replica cluster with
// scripts/redis-cluster.sh in a scratch directory (--single: one
// redis-server), and stops it at the end.
#include <hiredis/hiredis.h>
#include <poll.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "tiers/remote/key_slot.h"
#include "tiers/remote/remote_store.h"
#include "tiers/remote/remote_url.h"
#include "tiers/remote/slot_map.h"
#include "tiers/remote/testing/redis_process.h"
#include "tiers/remote/testing/test_blocks.h"

namespace tierkv::remote {
namespace {

using bench::Clock;
using bench::SecondsSince;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr Key128 kBenchNamespace{0xBE4C, 0x2E30};
constexpr size_t kPayloadSources = 8;  // distinct payloads, cycled
constexpr size_t kGetBuffers = 64;     // destinations, cycled (one I/O thread writes them)
constexpr std::chrono::milliseconds kBenchOpTimeout{60'000};

struct Config {
  std::string url;
  bool single = false;
  uint64_t block_kib = 1024;
  uint64_t total_mib = 256;
  uint32_t depth = 16;
  int repeat = 3;
  bool redis_benchmark = true;
  bool json = false;
};

struct Figures {
  double put_gbps = 0;
  double get_gbps = 0;
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double LoadAverage() {
  std::ifstream file("/proc/loadavg");
  double one = 0;
  file >> one;
  return one;
}

class Bench {
 public:
  Bench(const Config& config, RemoteUrl url, std::string url_text)
      : config_(config), url_(std::move(url)), url_text_(std::move(url_text)) {
    block_bytes_ = config.block_kib << 10;
    blocks_ = testing::Chain(kBenchNamespace,
                             std::max<uint64_t>(1, config.total_mib * kMiB / block_bytes_));
    for (size_t i = 0; i < kPayloadSources; ++i) {
      payloads_.push_back(testing::TestPayload(i, block_bytes_));
    }
    for (size_t i = 0; i < kGetBuffers; ++i) dst_.emplace_back(block_bytes_);
  }

  size_t blocks() const { return blocks_.size(); }
  size_t value_bytes() const { return RemotePrefixBytes(testing::kTestBlockTokens) + block_bytes_; }

  Result<Figures> Tier() {
    RemoteOptions options;
    options.url = url_text_;
    options.max_in_flight_per_node = config_.depth;
    options.op_timeout = kBenchOpTimeout;
    TIERKV_ASSIGN_OR_RETURN(auto store, RemoteStore::Open(options));
    // Connected and routed before the clock starts.
    TIERKV_RETURN_IF_ERROR(PutBlocking(*store, blocks_[0], payloads_[0]));
    Figures figures;
    size_t ok = 0;
    Status failure;
    auto count = [&](Status s) {
      if (s.ok()) {
        ++ok;
      } else if (failure.ok()) {
        failure = s;
      }
    };
    RemoteStore::Batch puts;
    for (size_t i = 0; i < blocks_.size(); ++i) {
      puts.Put(blocks_[i], payloads_[i % kPayloadSources], count);
    }
    Clock::time_point t0 = Clock::now();
    store->Submit(std::move(puts));
    store->Drain();
    figures.put_gbps = Gbps(SecondsSince(t0));
    if (ok != blocks_.size()) return Status::IOError("tier put: " + failure.ToString());

    ok = 0;
    RemoteStore::Batch gets;
    for (size_t i = 0; i < blocks_.size(); ++i) {
      gets.Get(blocks_[i], dst_[i % kGetBuffers], count);
    }
    t0 = Clock::now();
    store->Submit(std::move(gets));
    store->Drain();
    figures.get_gbps = Gbps(SecondsSince(t0));
    if (ok != blocks_.size()) return Status::IOError("tier get: " + failure.ToString());
    if (dst_[(blocks_.size() - 1) % kGetBuffers] !=
        payloads_[(blocks_.size() - 1) % kPayloadSources]) {
      return Status::Corruption("tier get returned other bytes");
    }
    return figures;
  }

  // Plain hiredis: per master, one thread with a blocking connection sending
  // its share of the keys in pipelined waves of `depth`.
  Result<Figures> Raw() {
    TIERKV_ASSIGN_OR_RETURN(auto shares, SharesByMaster());
    const std::string value(value_bytes(), 'v');
    Figures figures;
    for (const bool put : {true, false}) {
      std::vector<std::thread> threads;
      std::vector<Status> results(shares.size());
      const Clock::time_point t0 = Clock::now();
      size_t n = 0;
      for (auto& [node, keys] : shares) {
        threads.emplace_back([&, node = node, keys = &keys, slot = n] {
          results[slot] = RawLoop(node, *keys, put, value);
        });
        ++n;
      }
      for (auto& thread : threads) thread.join();
      const double seconds = SecondsSince(t0);
      for (const Status& status : results) TIERKV_RETURN_IF_ERROR(status);
      (put ? figures.put_gbps : figures.get_gbps) = Gbps(seconds);
    }
    return figures;
  }

  // redis-benchmark on the same value size over `blocks()` random key names:
  // SET first, four times as many requests as names so that nearly every name
  // exists (a GET of a missing one would be a tiny nil reply), then GET. Its
  // requests/s times the value size.
  std::optional<Figures> RedisBenchmark() {
    Figures figures;
    for (const bool put : {true, false}) {
      auto rps = RedisBenchmarkRun(put ? "set" : "get", put ? 4 * blocks() : blocks());
      if (!rps.has_value()) return std::nullopt;
      (put ? figures.put_gbps : figures.get_gbps) = *rps * static_cast<double>(value_bytes()) / 1e9;
    }
    return figures;
  }

 private:
  std::optional<double> RedisBenchmarkRun(const std::string& test, size_t requests) const {
    const HostPort& node = url_.nodes.front();
    const bool cluster = url_.mode == RemoteMode::kCluster;
    std::vector<std::string> argv = {"redis-benchmark",
                                     "-h",
                                     node.host,
                                     "-p",
                                     std::to_string(node.port),
                                     "-t",
                                     test,
                                     "-d",
                                     std::to_string(value_bytes()),
                                     "-n",
                                     std::to_string(requests),
                                     "-r",
                                     std::to_string(blocks()),
                                     "-P",
                                     std::to_string(config_.depth),
                                     "-c",
                                     std::to_string(cluster ? 3 : 1),
                                     "-q"};
    if (cluster) argv.push_back("--cluster");
    if (!url_.password.empty()) argv.insert(argv.end(), {"-a", url_.password});
    auto out = testing::RunCommand(argv);
    if (!out.ok()) return std::nullopt;
    std::smatch match;
    if (!std::regex_search(*out, match, std::regex(R"(: ([0-9.]+) requests per second)"))) {
      return std::nullopt;
    }
    return std::stod(match[1]);
  }

  double Gbps(double seconds) const {
    return static_cast<double>(blocks_.size() * block_bytes_) / seconds / 1e9;
  }

  Result<std::map<std::string, std::vector<std::string>>> SharesByMaster() {
    SlotMap map = SlotMap::SingleNode(url_.nodes.front());
    if (url_.mode == RemoteMode::kCluster) {
      TIERKV_ASSIGN_OR_RETURN(auto context, Connect(url_.nodes.front()));
      auto* reply = static_cast<redisReply*>(redisCommand(context.get(), "CLUSTER SLOTS"));
      if (reply == nullptr) return Status::IOError("CLUSTER SLOTS: no reply");
      auto parsed = SlotMap::FromClusterSlots(*reply, url_.nodes.front());
      freeReplyObject(reply);
      TIERKV_ASSIGN_OR_RETURN(map, std::move(parsed));
    }
    std::map<std::string, std::vector<std::string>> shares;
    for (const RemoteBlock& block : blocks_) {
      const std::string name = RemoteKeyName(block.namespace_id, block.key);
      const HostPort* master = map.MasterOf(KeySlot(name));
      if (master == nullptr) return Status::Unavailable("a slot has no master");
      shares[ToString(*master)].push_back(name);
    }
    return shares;
  }

  using Context = std::unique_ptr<redisContext, void (*)(redisContext*)>;

  Result<Context> Connect(const HostPort& node) const {
    const timeval timeout{60, 0};
    Context context(redisConnectWithTimeout(node.host.c_str(), node.port, timeout), redisFree);
    if (context == nullptr || context->err != 0) {
      return Status::Unavailable("connect " + ToString(node) + ": " +
                                 (context ? context->errstr : "out of memory"));
    }
    redisSetTimeout(context.get(), timeout);
    if (!url_.password.empty()) {
      auto* reply = static_cast<redisReply*>(
          url_.user.empty() ? redisCommand(context.get(), "AUTH %s", url_.password.c_str())
                            : redisCommand(context.get(), "AUTH %s %s", url_.user.c_str(),
                                           url_.password.c_str()));
      const bool ok = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
      if (reply != nullptr) freeReplyObject(reply);
      if (!ok) return Status::PermissionDenied("AUTH refused by " + ToString(node));
    }
    return context;
  }

  Status RawLoop(const std::string& node_text, const std::vector<std::string>& keys, bool put,
                 const std::string& value) const {
    TIERKV_ASSIGN_OR_RETURN(HostPort node, ParseHostPort(node_text));
    TIERKV_ASSIGN_OR_RETURN(auto context, Connect(node));
    for (size_t begin = 0; begin < keys.size(); begin += config_.depth) {
      const size_t end = std::min(keys.size(), begin + config_.depth);
      for (size_t i = begin; i < end; ++i) {
        const char* argv[3] = {put ? "SET" : "GET", keys[i].data(), value.data()};
        const size_t lens[3] = {3, keys[i].size(), value.size()};
        redisAppendCommandArgv(context.get(), put ? 3 : 2, argv, lens);
      }
      for (size_t i = begin; i < end; ++i) {
        void* reply = nullptr;
        if (redisGetReply(context.get(), &reply) != REDIS_OK) {
          return Status::IOError(node_text + ": " + context->errstr);
        }
        const auto* r = static_cast<redisReply*>(reply);
        const bool ok = put ? r->type == REDIS_REPLY_STATUS
                            : r->type == REDIS_REPLY_STRING && r->len == value.size();
        freeReplyObject(reply);
        if (!ok) return Status::IOError(node_text + ": unexpected reply");
      }
    }
    return Status::Ok();
  }

  const Config& config_;
  const RemoteUrl url_;
  const std::string url_text_;
  size_t block_bytes_ = 0;
  std::vector<RemoteBlock> blocks_;
  std::vector<std::vector<std::byte>> payloads_;
  std::vector<std::vector<std::byte>> dst_;
};

int Run(const Config& config) {
  std::optional<testing::ScratchDir> dir;
  std::unique_ptr<testing::RedisCluster> cluster;
  std::unique_ptr<testing::RedisServer> server;
  std::string url_text = config.url;
  if (url_text.empty()) {
    dir.emplace("tierkv-remote-bench-");
    if (config.single) {
      auto started = testing::RedisServer::Start(dir->path());
      if (!started.ok()) {
        std::fprintf(stderr, "tierkv-remote-bench: %s\n", started.status().ToString().c_str());
        return 1;
      }
      server = std::move(*started);
      url_text = server->url();
    } else {
      auto started = testing::RedisCluster::Start(dir->path());
      if (!started.ok()) {
        std::fprintf(stderr, "tierkv-remote-bench: %s\n", started.status().ToString().c_str());
        return 1;
      }
      cluster = std::move(*started);
      url_text = cluster->url();
    }
  }
  auto url = ParseRemoteUrl(url_text);
  if (!url.ok()) {
    std::fprintf(stderr, "tierkv-remote-bench: %s\n", url.status().ToString().c_str());
    return 2;
  }
  Bench bench(config, *url, url_text);
  std::vector<double> tier_put, tier_get, raw_put, raw_get;
  for (int r = 0; r < config.repeat; ++r) {
    auto tier = bench.Tier();
    auto raw = bench.Raw();
    if (!tier.ok() || !raw.ok()) {
      std::fprintf(stderr, "tierkv-remote-bench: %s\n",
                   (!tier.ok() ? tier.status() : raw.status()).ToString().c_str());
      return 1;
    }
    tier_put.push_back(tier->put_gbps);
    tier_get.push_back(tier->get_gbps);
    raw_put.push_back(raw->put_gbps);
    raw_get.push_back(raw->get_gbps);
  }
  const std::optional<Figures> reference =
      config.redis_benchmark ? bench.RedisBenchmark() : std::nullopt;
  const double load = LoadAverage();
  const std::string shown = RedactedUrl(url_text);
  const double put = Median(tier_put), get = Median(tier_get);
  const double raw_p = Median(raw_put), raw_g = Median(raw_get);
  if (config.json) {
    std::printf(
        "{\"url\":\"%s\",\"block_bytes\":%llu,\"blocks\":%zu,\"depth\":%u,\"repeat\":%d,"
        "\"load_average\":%.2f,\"tier_put_gbps\":%.3f,\"raw_put_gbps\":%.3f,"
        "\"tier_get_gbps\":%.3f,\"raw_get_gbps\":%.3f",
        shown.c_str(), static_cast<unsigned long long>(config.block_kib << 10), bench.blocks(),
        config.depth, config.repeat, load, put, raw_p, get, raw_g);
    if (reference) {
      std::printf(",\"redis_benchmark_set_gbps\":%.3f,\"redis_benchmark_get_gbps\":%.3f",
                  reference->put_gbps, reference->get_gbps);
    }
    std::printf("}\n");
    return 0;
  }
  std::printf("remote tier: %zu blocks of %llu KiB (%zu-byte values), depth %u per node, %s\n",
              bench.blocks(), static_cast<unsigned long long>(config.block_kib),
              bench.value_bytes(), config.depth, shown.c_str());
  std::printf("medians of %d alternating tier/raw runs; load average %.2f\n\n", config.repeat,
              load);
  std::printf("| op  | tier GB/s | raw hiredis GB/s | tier/raw | redis-benchmark GB/s |\n");
  std::printf("|-----|-----------|------------------|----------|----------------------|\n");
  auto row = [&](const char* op, double tier, double raw, double ref) {
    std::printf("| %s | %9.3f | %16.3f | %7.2fx | %20s |\n", op, tier, raw, tier / raw,
                reference ? std::to_string(ref).substr(0, 5).c_str() : "-");
  };
  row("put", put, raw_p, reference ? reference->put_gbps : 0);
  row("get", get, raw_g, reference ? reference->get_gbps : 0);
  return 0;
}

}  // namespace
}  // namespace tierkv::remote

int main(int argc, char** argv) {
  tierkv::remote::Config config;
  CLI::App app{
      "tierkv-remote-bench: the remote tier's client (pipelined SET/GET of block values) beside "
      "plain hiredis and redis-benchmark on the same Redis"};
  app.add_option("--url", config.url,
                 "redis://HOST:PORT or redis-cluster://HOST:PORT,...; default: start a local "
                 "3-master cluster (scripts/redis-cluster.sh)");
  app.add_flag("--single", config.single, "without --url: start one redis-server instead");
  app.add_option("--block-kib", config.block_kib, "payload per block, KiB")->capture_default_str();
  app.add_option("--total-mib", config.total_mib, "payload bytes per measurement, MiB")
      ->capture_default_str();
  app.add_option("--depth", config.depth, "requests in flight per node (tier and raw)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--repeat", config.repeat, "alternating tier/raw runs; medians reported")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_flag("!--no-redis-benchmark", config.redis_benchmark, "skip the redis-benchmark figure");
  app.add_flag("--json", config.json, "one JSON object instead of a table");
  CLI11_PARSE(app, argc, argv);
  if (config.block_kib == 0) {
    std::fprintf(stderr, "tierkv-remote-bench: --block-kib must be at least 1\n");
    return 2;
  }
  return tierkv::remote::Run(config);
}
