// /metrics in the Prometheus text format (prometheus-cpp's HTTP exposer, on
// its own threads) at `metrics_listen`. Names carry one prefix, tierkv_, and
// base units (bytes, seconds); counters end in _total. Hit rates are not
// exported as gauges: they are derived from counters, e.g.
//   rate(tierkv_lookup_hit_tokens_total[5m]) / rate(tierkv_lookup_tokens_total[5m]).
//
// A scrape asks the event loop for a snapshot (MetricsSnapshot) and waits for
// it up to kSnapshotWait; a loop too busy to answer in time (a long evict)
// gets the previous snapshot served instead. The hot paths pay nothing: the
// counters are the store's own, read once per scrape.
#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/metrics_snapshot.h"
#include "tierkv/status.h"

namespace prometheus {
class Exposer;
}

namespace tierkv {

// The metric families of one snapshot (what a scrape returns).
std::vector<prometheus::MetricFamily> MetricFamilies(const MetricsSnapshot& snapshot);

class MetricsExporter {
 public:
  static constexpr auto kSnapshotWait = std::chrono::seconds(2);

  using RunOnLoop = std::function<void(std::function<void()>)>;
  using Snapshotter = std::function<MetricsSnapshot()>;

  // Listens on `listen` (HOST:PORT; port 0 picks one). `run_on_loop` runs its
  // argument on the event loop (boost::asio::post); `snapshot` is then called
  // there. Errors name the address.
  static Result<std::unique_ptr<MetricsExporter>> Start(const std::string& listen,
                                                        RunOnLoop run_on_loop,
                                                        Snapshotter snapshot);
  ~MetricsExporter();

  // HOST:PORT as bound.
  const std::string& address() const { return address_; }

 private:
  class Collector;
  MetricsExporter() = default;

  std::shared_ptr<Collector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
};

}  // namespace tierkv
