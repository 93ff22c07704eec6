// tierkv: the admin CLI of tierkvd (stats, evict, health).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "tierkv/client.h"

namespace {

using nlohmann::json;

std::string HumanBytes(uint64_t b) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(part) / whole);
  return buf;
}

int Fail(const tierkv::Status& s) {
  std::cerr << "tierkv: " << s.ToString() << "\n";
  return 1;
}

// The GPU and NVMe tiers' own details, under the tier table.
void PrintTierDetail(const json& doc) {
  const json gpu = doc.value("gpu_tier", json::object());
  if (!gpu.value("enabled", false)) {
    std::printf("\ngpu: off (%s)\n", gpu.value("reason", std::string("unknown")).c_str());
  }
  for (const auto& t : doc.value("tiers", json::array())) {
    if (t.value("name", "") != "gpu") continue;
    std::printf("\ngpu: %s, %llu copies up in flight, %llu copy errors\n",
                gpu.value("device", std::string("?")).c_str(),
                static_cast<unsigned long long>(t.value("copies_in_flight", uint64_t{0})),
                static_cast<unsigned long long>(t.value("copy_errors", uint64_t{0})));
  }
  for (const auto& t : doc.value("tiers", json::array())) {
    if (t.value("name", "") != "nvme") continue;
    std::printf("\nnvme: read %s (%.0f MB/s now), written %s (%.0f MB/s now), queue depth %llu "
                "(+%llu waiting), errors %llu read / %llu write, corrupt dropped %llu, "
                "restored at start %llu (%llu damaged entries dropped)\n",
                HumanBytes(t.value("bytes_read", uint64_t{0})).c_str(),
                t.value("read_bytes_per_s", 0.0) / 1e6,
                HumanBytes(t.value("bytes_written", uint64_t{0})).c_str(),
                t.value("write_bytes_per_s", 0.0) / 1e6,
                static_cast<unsigned long long>(t.value("queue_depth", uint64_t{0})),
                static_cast<unsigned long long>(t.value("queued", uint64_t{0})),
                static_cast<unsigned long long>(t.value("read_errors", uint64_t{0})),
                static_cast<unsigned long long>(t.value("write_errors", uint64_t{0})),
                static_cast<unsigned long long>(t.value("corrupt_dropped", uint64_t{0})),
                static_cast<unsigned long long>(t.value("loaded_blocks", uint64_t{0})),
                static_cast<unsigned long long>(t.value("dropped_at_load", uint64_t{0})));
  }
  std::printf("movement: %llu promotions, %llu demotions, %llu blocks dropped\n",
              static_cast<unsigned long long>(doc.value("promotions", uint64_t{0})),
              static_cast<unsigned long long>(doc.value("demotions", uint64_t{0})),
              static_cast<unsigned long long>(doc.value("dropped_blocks", uint64_t{0})));
}

void PrintStatsTable(const tierkv::Stats& stats) {
  std::printf("tierkvd up %llus, %llu connections\n\n",
              static_cast<unsigned long long>(stats.uptime_s),
              static_cast<unsigned long long>(stats.connections));
  std::printf("%-6s %12s %12s %6s %10s %8s %10s %10s %8s %10s %12s %12s\n", "TIER", "CAPACITY",
              "USED", "USE%", "BLOCKS", "PINNED", "HITS", "MISSES", "HIT%", "EVICTIONS",
              "BYTES IN", "BYTES OUT");
  for (const auto& t : stats.tiers) {
    std::printf("%-6s %12s %12s %6s %10llu %8llu %10llu %10llu %8s %10llu %12s %12s\n",
                t.name.c_str(), HumanBytes(t.capacity_bytes).c_str(),
                HumanBytes(t.used_bytes).c_str(), Percent(t.used_bytes, t.capacity_bytes).c_str(),
                static_cast<unsigned long long>(t.blocks),
                static_cast<unsigned long long>(t.pinned_blocks),
                static_cast<unsigned long long>(t.hits), static_cast<unsigned long long>(t.misses),
                Percent(t.hits, t.hits + t.misses).c_str(),
                static_cast<unsigned long long>(t.evictions), HumanBytes(t.bytes_in).c_str(),
                HumanBytes(t.bytes_out).c_str());
  }
  PrintTierDetail(json::parse(stats.raw_json));
  std::printf("\n%-34s %-10s %-20s %10s %6s %10s %10s %10s\n", "NAMESPACE", "TENANT", "MODEL",
              "BLOCK", "TOKENS", "BLOCKS", "HITS", "MISSES");
  if (stats.namespaces.empty()) std::printf("(none open)\n");
  for (const auto& n : stats.namespaces) {
    std::printf("%-34s %-10s %-20.20s %10s %6u %10llu %10llu %10llu\n", n.id_hex.c_str(),
                n.tenant.c_str(), n.model_fingerprint.c_str(), HumanBytes(n.block_bytes).c_str(),
                n.block_tokens, static_cast<unsigned long long>(n.blocks),
                static_cast<unsigned long long>(n.hits),
                static_cast<unsigned long long>(n.misses));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tierkv: admin CLI for the tierkvd KV cache daemon", "tierkv"};
  app.require_subcommand(1);
  tierkv::ConnectOptions options;
  bool as_json = false;
  app.add_option("--socket", options.address,
                 "Daemon address: a Unix socket path, unix:PATH or tcp:HOST:PORT")
      ->default_val("/tmp/tierkv.sock");
  app.add_option("--admin-token", options.admin_token, "Admin token (evict needs it when set)");
  app.add_flag("--json", as_json, "Print JSON for scripts instead of tables");

  auto* stats_cmd = app.add_subcommand("stats", "Per-tier and per-namespace statistics");
  auto* health_cmd = app.add_subcommand("health", "Is the daemon up and serving? (exit 0 if so)");
  auto* evict_cmd = app.add_subcommand("evict", "Evict unpinned blocks of one namespace, or all");
  auto* flush_cmd =
      app.add_subcommand("flush", "Write every host block to NVMe (survives a daemon crash)");
  std::string evict_ns;
  bool evict_all = false;
  evict_cmd->add_option("--namespace", evict_ns, "Namespace id (hex, from stats) to evict");
  evict_cmd->add_flag("--all", evict_all, "Evict every namespace's unpinned blocks");
  CLI11_PARSE(app, argc, argv);

  auto client = tierkv::Client::Connect(options);
  if (!client.ok()) return Fail(client.status());

  if (stats_cmd->parsed()) {
    auto stats = (*client)->GetStats();
    if (!stats.ok()) return Fail(stats.status());
    if (as_json) {
      std::cout << json::parse(stats->raw_json).dump(2) << "\n";
    } else {
      PrintStatsTable(*stats);
    }
    return 0;
  }
  if (health_cmd->parsed()) {
    auto health = (*client)->GetHealth();
    if (!health.ok()) return Fail(health.status());
    if (as_json) {
      std::cout << json{{"ok", health->ok}, {"version", health->version},
                        {"detail", health->detail}}.dump(2)
                << "\n";
    } else {
      std::cout << (health->ok ? "ok" : "unhealthy") << ": " << health->version << ", "
                << health->detail << "\n";
    }
    return health->ok ? 0 : 1;
  }
  if (flush_cmd->parsed()) {
    auto n = (*client)->Flush();
    if (!n.ok()) return Fail(n.status());
    if (as_json) {
      std::cout << json{{"flushed_blocks", *n}}.dump() << "\n";
    } else {
      std::cout << "flushed " << *n << " blocks to nvme\n";
    }
    return 0;
  }
  if (evict_cmd->parsed()) {
    if (evict_all == !evict_ns.empty()) {
      std::cerr << "tierkv evict: give exactly one of --all or --namespace ID\n";
      return 2;
    }
    tierkv::Namespace target;
    if (!evict_all) {
      auto stats = (*client)->GetStats();
      if (!stats.ok()) return Fail(stats.status());
      auto doc = json::parse(stats->raw_json);
      bool found = false;
      for (const auto& n : doc["namespaces"]) {
        if (n.value("id", "") == evict_ns) {
          target.handle = n.value("handle", 0u);
          found = true;
        }
      }
      if (!found) return Fail(tierkv::Status::NotFound("no open namespace " + evict_ns));
    }
    auto n = (*client)->Evict(evict_all ? nullptr : &target);
    if (!n.ok()) return Fail(n.status());
    if (as_json) {
      std::cout << json{{"evicted_blocks", *n}}.dump() << "\n";
    } else {
      std::cout << "evicted " << *n << " blocks\n";
    }
    return 0;
  }
  return 0;
}
