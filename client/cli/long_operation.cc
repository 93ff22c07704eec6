#include "client/cli/long_operation.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

#include "client/cli/stats_view.h"

namespace tierkv::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kProgressInterval = std::chrono::seconds(1);
constexpr int kProbeTimeoutMillis = 2000;

json NvmeTier(const json& doc) {
  for (const auto& t : doc.value("tiers", json::array())) {
    if (t.value("name", "") == "nvme") return t;
  }
  return json::object();
}

// Samples the daemon's stats on its own connection and thread, so that a
// daemon too busy to answer never stalls the progress line.
class StatsProbe {
 public:
  explicit StatsProbe(ConnectOptions options) : thread_([this, options] { Run(options); }) {}
  ~StatsProbe() {
    stop_ = true;
    thread_.join();
  }
  json first() {
    std::lock_guard lock(mu_);
    return first_;
  }
  json latest() {
    std::lock_guard lock(mu_);
    return latest_;
  }

 private:
  void Run(ConnectOptions options) {
    options.timeout_ms = kProbeTimeoutMillis;
    options.map_pool = false;
    std::unique_ptr<Client> client;
    while (!stop_) {
      if (!client) {
        auto c = Client::Connect(options);
        if (c.ok()) client = std::move(*c);
      }
      if (client) {
        auto stats = client->GetStats();
        if (stats.ok()) {
          std::lock_guard lock(mu_);
          latest_ = json::parse(stats->raw_json);
          if (first_.is_null()) first_ = latest_;
        } else {
          client.reset();
        }
      }
      for (auto until = Clock::now() + kProgressInterval; !stop_ && Clock::now() < until;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  json first_;
  json latest_;
  std::thread thread_;  // last: starts once the fields above exist
};

}  // namespace

std::string FlushProgress(const json& at_start, const json& now, double seconds) {
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "flush: %.0f s", seconds);
  if (at_start.is_null() || now.is_null()) return elapsed;
  const json start_tier = NvmeTier(at_start);
  const json tier = NvmeTier(now);
  const uint64_t before = start_tier.value("blocks", uint64_t{0});
  const uint64_t blocks = tier.value("blocks", uint64_t{0});
  const uint64_t queued =
      tier.value("queue_depth", uint64_t{0}) + tier.value("queued", uint64_t{0});
  return std::string(elapsed) + ", " + CompactCount(blocks >= before ? blocks - before : 0) +
         " blocks written to nvme, " + CompactCount(queued) + " writes in flight or queued";
}

Result<uint64_t> RunWithProgress(const std::string& name, const ConnectOptions& connect,
                                 double timeout_s,
                                 const std::function<Result<uint64_t>()>& operation) {
  const bool tty = isatty(STDERR_FILENO);
  const auto start = Clock::now();
  std::unique_ptr<StatsProbe> probe;
  if (name == "flush") probe = std::make_unique<StatsProbe>(connect);
  auto result = std::async(std::launch::async, operation);
  bool printed = false;
  while (result.wait_for(kProgressInterval) != std::future_status::ready) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::string line;
    if (probe) {
      line = FlushProgress(probe->first(), probe->latest(), seconds);
    } else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s: %.0f s, still working", name.c_str(), seconds);
      line = buf;
    }
    std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line.c_str());
    printed = true;
  }
  if (printed && tty) std::fprintf(stderr, "\n");
  Result<uint64_t> r = result.get();
  if (!r.ok() && timeout_s > 0 && r.status().message().find("timed out") != std::string::npos) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "gave up waiting for the %s after %g s (--timeout); tierkvd goes on with it "
                  "(`tierkv stats` shows how far it is)",
                  name.c_str(), timeout_s);
    return Status::Unavailable(buf);
  }
  return r;
}

}  // namespace tierkv::cli
