// tierkv: the admin CLI of tierkvd (stats, health, evict, flush).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "base/version.h"
#include "client/cli/long_operation.h"
#include "client/cli/stats_view.h"
#include "tierkv/client.h"

namespace {

using nlohmann::json;
using namespace tierkv;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr double kQuickTimeoutSeconds = 10;
constexpr int kWatchHeaderEvery = 20;
constexpr size_t kNamespaceIdHexDigits = 32;

struct Flags {
  ConnectOptions connect;
  bool json = false;
  double timeout_s = -1;  // unset: each command's own default
  double watch_s = 0;
  uint64_t watch_count = 0;
  std::string evict_namespace;
  bool evict_all = false;
};

int Fail(const Status& s) {
  std::cerr << "tierkv: " << s.message() << "\n";
  return kExitFailure;
}

Result<std::unique_ptr<Client>> Connect(const Flags& flags, double default_timeout_s) {
  ConnectOptions options = flags.connect;
  options.map_pool = false;
  const double timeout = flags.timeout_s >= 0 ? flags.timeout_s : default_timeout_s;
  options.timeout_ms = static_cast<int>(timeout * 1000);
  return Client::Connect(options);
}

Result<json> StatsDocument(Client& client) {
  TIERKV_ASSIGN_OR_RETURN(Stats stats, client.GetStats());
  return json::parse(stats.raw_json);
}

std::string TimeOfDay() {
  const std::time_t now = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&now));
  return buf;
}

int Watch(Client& client, const Flags& flags) {
  json previous;
  auto taken = std::chrono::steady_clock::now();
  for (uint64_t n = 0; flags.watch_count == 0 || n < flags.watch_count; ++n) {
    if (n > 0) std::this_thread::sleep_for(std::chrono::duration<double>(flags.watch_s));
    auto doc = StatsDocument(client);
    if (!doc.ok()) return Fail(doc.status());
    const auto now = std::chrono::steady_clock::now();
    if (flags.json) {
      std::cout << doc->dump() << std::endl;
    } else {
      if (n % kWatchHeaderEvery == 0) std::cout << cli::RenderWatchHeader(*doc);
      std::cout << cli::RenderWatchLine(previous, *doc,
                                        std::chrono::duration<double>(now - taken).count(),
                                        TimeOfDay())
                << std::flush;
    }
    previous = std::move(*doc);
    taken = now;
  }
  return 0;
}

int StatsCommand(const Flags& flags) {
  auto client = Connect(flags, kQuickTimeoutSeconds);
  if (!client.ok()) return Fail(client.status());
  if (flags.watch_s > 0) return Watch(**client, flags);
  auto doc = StatsDocument(**client);
  if (!doc.ok()) return Fail(doc.status());
  std::cout << (flags.json ? doc->dump(2) + "\n" : cli::RenderStats(*doc));
  return 0;
}

int HealthCommand(const Flags& flags) {
  auto client = Connect(flags, kQuickTimeoutSeconds);
  if (!client.ok()) return Fail(client.status());
  auto health = (*client)->GetHealth();
  if (!health.ok()) return Fail(health.status());
  if (flags.json) {
    std::cout << json{{"ok", health->ok}, {"version", health->version}, {"detail", health->detail}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << (health->ok ? "ok" : "unhealthy") << ": " << health->version << ", "
              << health->detail << "\n";
  }
  return health->ok ? 0 : kExitFailure;
}

// The open namespace with this id, as stats lists it (its handle names it on the wire).
Result<Namespace> FindNamespace(Client& client, const std::string& id) {
  const bool hex = id.size() == kNamespaceIdHexDigits &&
                   id.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!hex) {
    return Status::InvalidArgument("'" + id + "' is not a namespace id: ids are " +
                                   std::to_string(kNamespaceIdHexDigits) +
                                   " hex digits, as `tierkv stats` lists them");
  }
  TIERKV_ASSIGN_OR_RETURN(json doc, StatsDocument(client));
  std::string lower = id;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& n : doc.value("namespaces", json::array())) {
    if (n.value("id", "") != lower) continue;
    Namespace ns;
    ns.handle = n.value("handle", 0u);
    return ns;
  }
  return Status::NotFound("tierkvd has no namespace " + id + " (`tierkv stats` lists them)");
}

int EvictCommand(const Flags& flags) {
  if (flags.evict_all == !flags.evict_namespace.empty()) {
    std::cerr << "tierkv evict: give exactly one of --all or --namespace ID\n";
    return kExitUsage;
  }
  auto client = Connect(flags, cli::kNoTimeout);
  if (!client.ok()) return Fail(client.status());
  Namespace target;
  if (!flags.evict_all) {
    auto ns = FindNamespace(**client, flags.evict_namespace);
    if (!ns.ok()) return Fail(ns.status());
    target = *ns;
  }
  auto evicted = cli::RunWithProgress("evict", flags.connect, flags.timeout_s, [&] {
    return (*client)->Evict(flags.evict_all ? nullptr : &target);
  });
  if (!evicted.ok()) return Fail(evicted.status());
  if (flags.json) {
    std::cout << json{{"evicted_blocks", *evicted}}.dump() << "\n";
  } else {
    std::cout << "evicted " << cli::CompactCount(*evicted) << " blocks\n";
  }
  return 0;
}

int FlushCommand(const Flags& flags) {
  auto client = Connect(flags, cli::kNoTimeout);
  if (!client.ok()) return Fail(client.status());
  auto flushed = cli::RunWithProgress("flush", flags.connect, flags.timeout_s,
                                      [&] { return (*client)->Flush(); });
  if (!flushed.ok()) return Fail(flushed.status());
  if (flags.json) {
    std::cout << json{{"flushed_blocks", *flushed}}.dump() << "\n";
  } else {
    std::cout << "flushed " << cli::CompactCount(*flushed) << " blocks to nvme\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tierkv: admin CLI for the tierkvd KV cache daemon.\n"
      "evict and flush need the admin token when the daemon sets one; stats and\n"
      "health need none. Options go before or after the command.",
      "tierkv"};
  app.require_subcommand(1);
  // Options of the whole program are accepted after the command too
  // (`tierkv stats --json` as well as `tierkv --json stats`).
  app.fallthrough();
  app.set_version_flag("--version", "tierkv " + std::string(Version()));
  Flags flags;
  app.add_option("--socket", flags.connect.address,
                 "Daemon address: PATH or unix:PATH (Unix socket), HOST:PORT or tcp:HOST:PORT")
      ->default_val("/tmp/tierkv.sock");
  app.add_option("--admin-token", flags.connect.admin_token,
                 "Admin token: evict and flush need it when the daemon sets one");
  app.add_flag("--json", flags.json, "Print JSON for scripts instead of tables");
  app.add_option("--timeout", flags.timeout_s,
                 "Give up waiting for the daemon after SECONDS (default: 10 for stats and "
                 "health; none for evict and flush, which show their progress)")
      ->check(CLI::NonNegativeNumber);

  auto* stats_cmd = app.add_subcommand("stats", "Per-tier and per-namespace statistics");
  stats_cmd
      ->add_option("--watch", flags.watch_s,
                   "Print one line of figures every SECONDS, like redis-cli --stat")
      ->check(CLI::PositiveNumber);
  stats_cmd->add_option("--count", flags.watch_count, "With --watch: stop after N lines");
  auto* health_cmd = app.add_subcommand("health", "Is the daemon up and serving? (exit 0 if so)");
  auto* evict_cmd =
      app.add_subcommand("evict", "Evict unpinned blocks of one namespace, or all (admin)");
  evict_cmd->add_option("--namespace", flags.evict_namespace, "Namespace id (hex, from stats)");
  evict_cmd->add_flag("--all", flags.evict_all, "Evict every namespace's unpinned blocks");
  auto* flush_cmd = app.add_subcommand(
      "flush", "Write every host block to NVMe, so it survives a daemon crash (admin)");
  CLI11_PARSE(app, argc, argv);

  if (stats_cmd->parsed()) return StatsCommand(flags);
  if (health_cmd->parsed()) return HealthCommand(flags);
  if (evict_cmd->parsed()) return EvictCommand(flags);
  if (flush_cmd->parsed()) return FlushCommand(flags);
  return kExitUsage;
}
