#include "daemon/metrics_exporter.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>

#include <future>
#include <limits>
#include <mutex>

#include "base/address.h"
#include "protocol/wire.h"

namespace tierkv {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

struct Families {
  std::vector<MetricFamily> all;

  MetricFamily& Add(std::string name, std::string help, MetricType type) {
    all.push_back({std::move(name), std::move(help), type, {}});
    return all.back();
  }
  void Gauge(std::string name, std::string help, double value) {
    Add(std::move(name), std::move(help), MetricType::Gauge).metric.push_back(GaugeOf(value, {}));
  }
  void Counter(std::string name, std::string help, double value) {
    Add(std::move(name), std::move(help), MetricType::Counter)
        .metric.push_back(CounterOf(value, {}));
  }
  static ClientMetric GaugeOf(double value, std::vector<ClientMetric::Label> labels) {
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    return m;
  }
  static ClientMetric CounterOf(double value, std::vector<ClientMetric::Label> labels) {
    ClientMetric m;
    m.label = std::move(labels);
    m.counter.value = value;
    return m;
  }
};

// One family with a series per tier.
template <typename Field>
void PerTier(Families& f, const MetricsSnapshot& s, std::string name, std::string help,
             MetricType type, Field field) {
  MetricFamily& family = f.Add(std::move(name), std::move(help), type);
  for (const auto& t : s.tiers) {
    const double value = static_cast<double>(field(t));
    family.metric.push_back(type == MetricType::Counter
                                ? Families::CounterOf(value, {{"tier", t.name}})
                                : Families::GaugeOf(value, {{"tier", t.name}}));
  }
}

}  // namespace

std::vector<MetricFamily> MetricFamilies(const MetricsSnapshot& s) {
  Families f;
  using T = MetricsSnapshot::Tier;
  f.Add("tierkv_build_info", "The tierkvd build: its version as a label, value 1",
        MetricType::Gauge)
      .metric.push_back(Families::GaugeOf(1, {{"version", s.version}}));
  f.Gauge("tierkv_start_time_seconds", "When tierkvd started, Unix time", s.start_time_seconds);
  f.Gauge("tierkv_connections", "Client connections open now", s.connections);
  f.Gauge("tierkv_indexed_blocks", "Blocks the daemon knows, on any tier, reserved ones too",
          s.indexed_blocks);
  PerTier(f, s, "tierkv_tier_capacity_bytes", "Bytes the tier can hold", MetricType::Gauge,
          [](const T& t) { return t.capacity_bytes; });
  PerTier(f, s, "tierkv_tier_used_bytes", "Bytes of the tier in use", MetricType::Gauge,
          [](const T& t) { return t.used_bytes; });
  PerTier(f, s, "tierkv_tier_blocks", "Blocks with a copy on the tier", MetricType::Gauge,
          [](const T& t) { return t.blocks; });
  PerTier(f, s, "tierkv_tier_pinned_blocks", "Blocks of the tier pinned by client leases",
          MetricType::Gauge, [](const T& t) { return t.pinned_blocks; });
  PerTier(f, s, "tierkv_hits_total",
          "Blocks asked for that this tier served (the fastest tier holding each)",
          MetricType::Counter, [](const T& t) { return t.hits; });
  PerTier(f, s, "tierkv_misses_total",
          "Blocks asked for that neither this tier nor a faster one held", MetricType::Counter,
          [](const T& t) { return t.misses; });
  PerTier(f, s, "tierkv_evictions_total",
          "Block copies that left the tier to make room or by evict", MetricType::Counter,
          [](const T& t) { return t.evictions; });
  f.Counter("tierkv_lookup_tokens_total", "Prompt tokens in the blocks lookups asked for",
            s.lookup_tokens);
  f.Counter("tierkv_lookup_hit_tokens_total", "Of those, tokens in blocks found cached",
            s.lookup_hit_tokens);
  MetricFamily& transfers = f.Add("tierkv_transfer_bytes_total",
                                  "Payload bytes moved, by source and destination (client is "
                                  "what engines put and get)",
                                  MetricType::Counter);
  for (const auto& t : s.transfers) {
    transfers.metric.push_back(
        Families::CounterOf(static_cast<double>(t.bytes), {{"from", t.from}, {"to", t.to}}));
  }
  MetricFamily& errors = f.Add("tierkv_errors_total",
                               "Tier errors by kind (corrupt: blocks dropped for a bad "
                               "checksum; damaged_at_load: index entries dropped at start)",
                               MetricType::Counter);
  for (const auto& e : s.errors) {
    errors.metric.push_back(
        Families::CounterOf(static_cast<double>(e.count), {{"tier", e.tier}, {"kind", e.kind}}));
  }
  f.Counter("tierkv_promotions_total", "Blocks copied from NVMe up to the host tier", s.promotions);
  f.Counter("tierkv_demotions_total", "Host copies dropped while the block stays on NVMe",
            s.demotions);
  f.Counter("tierkv_dropped_blocks_total", "Blocks forgotten on every tier", s.dropped_blocks);
  MetricFamily& tenant_blocks = f.Add("tierkv_tenant_blocks",
                                      "Blocks of the tenant's namespaces (at most 32 tenants "
                                      "by name, the rest as _other)",
                                      MetricType::Gauge);
  MetricFamily& tenant_tokens =
      f.Add("tierkv_tenant_lookup_tokens_total", "Prompt tokens the tenant's lookups asked for",
            MetricType::Counter);
  MetricFamily& tenant_hits = f.Add("tierkv_tenant_lookup_hit_tokens_total",
                                    "Of those, tokens found cached", MetricType::Counter);
  for (const auto& t : s.tenants) {
    tenant_blocks.metric.push_back(
        Families::GaugeOf(static_cast<double>(t.blocks), {{"tenant", t.name}}));
    tenant_tokens.metric.push_back(
        Families::CounterOf(static_cast<double>(t.lookup_tokens), {{"tenant", t.name}}));
    tenant_hits.metric.push_back(
        Families::CounterOf(static_cast<double>(t.lookup_hit_tokens), {{"tenant", t.name}}));
  }
  MetricFamily& durations =
      f.Add("tierkv_request_duration_seconds",
            "Time from a request's last byte in to its reply queued", MetricType::Histogram);
  for (const auto& h : s.requests) {
    ClientMetric m;
    m.label = {{"op", std::string(wire::MessageTypeName(h.type))}};
    m.histogram.sample_count = h.count;
    m.histogram.sample_sum = h.sum_seconds;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < RequestMetrics::kBucketBounds.size(); ++i) {
      cumulative += h.counts[i];
      m.histogram.bucket.push_back({cumulative, RequestMetrics::kBucketBounds[i]});
    }
    m.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
    durations.metric.push_back(std::move(m));
  }
  if (s.kv_events) {
    f.Counter("tierkv_kv_event_batches_total", "KV event batches published",
              static_cast<double>(s.kv_event_batches));
    f.Counter("tierkv_kv_event_batches_dropped_total",
              "KV event batches dropped because the publisher fell behind (gaps in sequence)",
              static_cast<double>(s.kv_event_batches_dropped));
  }
  return std::move(f.all);
}

// Serves scrapes from exposer threads: asks the loop for a snapshot, or uses
// the last one when the loop does not answer in time.
class MetricsExporter::Collector final : public prometheus::Collectable {
 public:
  Collector(RunOnLoop run_on_loop, Snapshotter snapshot)
      : run_on_loop_(std::move(run_on_loop)), snapshot_(std::move(snapshot)) {}

  std::vector<MetricFamily> Collect() const override {
    auto promise = std::make_shared<std::promise<MetricsSnapshot>>();
    std::future<MetricsSnapshot> fresh = promise->get_future();
    run_on_loop_([promise, snapshot = snapshot_] { promise->set_value(snapshot()); });
    std::lock_guard lock(mu_);
    if (fresh.wait_for(kSnapshotWait) == std::future_status::ready) last_ = fresh.get();
    return MetricFamilies(last_);
  }

 private:
  RunOnLoop run_on_loop_;
  Snapshotter snapshot_;
  mutable std::mutex mu_;
  mutable MetricsSnapshot last_;  // guarded by mu_
};

Result<std::unique_ptr<MetricsExporter>> MetricsExporter::Start(const std::string& listen,
                                                                RunOnLoop run_on_loop,
                                                                Snapshotter snapshot) {
  auto address = ParseAddress(listen.starts_with("tcp:") ? listen : "tcp:" + listen);
  if (!address.ok()) return address.status();
  std::unique_ptr<MetricsExporter> e(new MetricsExporter());
  e->collector_ = std::make_shared<Collector>(std::move(run_on_loop), std::move(snapshot));
  const std::string host =
      address->host.find(':') != std::string::npos ? "[" + address->host + "]" : address->host;
  try {
    e->exposer_ = std::make_unique<prometheus::Exposer>(host + ":" + std::to_string(address->port),
                                                        /*num_threads=*/1);
  } catch (const std::exception& ex) {
    return Status::IOError("metrics: cannot listen on " + listen + ": " + ex.what());
  }
  e->exposer_->RegisterCollectable(e->collector_);
  const std::vector<int> ports = e->exposer_->GetListeningPorts();
  e->address_ = host + ":" + std::to_string(ports.empty() ? address->port : ports.front());
  return e;
}

MetricsExporter::~MetricsExporter() = default;

}  // namespace tierkv
