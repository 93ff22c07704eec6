// /metrics without a daemon: the families a snapshot becomes, their text as
// promtool reads it, and the exporter answering a real HTTP GET.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "base/address.h"
#include "daemon/metrics_exporter.h"

namespace tierkv {
namespace {

MetricsSnapshot Sample() {
  MetricsSnapshot s;
  s.version = "tierkvd 9.9.9";
  s.connections = 3;
  s.tiers = {{"host", 1 << 30, 1 << 20, 16, 2, 100, 7, 1}, {"nvme", 4ull << 30, 0, 0, 0, 5, 2, 0}};
  s.transfers = {{"client", "host", 4096}};
  s.errors = {{"nvme", "corrupt", 1}};
  s.lookup_tokens = 1712;
  s.lookup_hit_tokens = 1680;
  s.tenants = {{"acme", 16, 1712, 1680}};
  RequestMetrics requests;
  requests.Record(3, 20e-6);  // lookup
  requests.Record(3, 2.0);
  s.requests = requests.Snapshot();
  return s;
}

std::string Text(const MetricsSnapshot& s) {
  return prometheus::TextSerializer().Serialize(MetricFamilies(s));
}

TEST(MetricsTest, NamesHaveOnePrefixBaseUnitsAndTierLabels) {
  const std::string text = Text(Sample());
  for (const char* line :
       {"tierkv_build_info{version=\"tierkvd 9.9.9\"} 1", "tierkv_connections 3",
        "tierkv_tier_capacity_bytes{tier=\"host\"} 1073741824",
        "tierkv_tier_blocks{tier=\"host\"} 16", "tierkv_hits_total{tier=\"nvme\"} 5",
        "tierkv_misses_total{tier=\"host\"} 7", "tierkv_lookup_tokens_total 1712",
        "tierkv_lookup_hit_tokens_total 1680",
        "tierkv_transfer_bytes_total{from=\"client\",to=\"host\"} 4096",
        "tierkv_errors_total{tier=\"nvme\",kind=\"corrupt\"} 1",
        "tierkv_tenant_blocks{tenant=\"acme\"} 16",
        "tierkv_request_duration_seconds_bucket{op=\"lookup\",le=\"2.5e-05\"} 1",
        "tierkv_request_duration_seconds_bucket{op=\"lookup\",le=\"+Inf\"} 2",
        "tierkv_request_duration_seconds_count{op=\"lookup\"} 2"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(text.find("hit_rate"), std::string::npos);  // derived from counters, never a gauge
  EXPECT_EQ(text.find("kv_event"), std::string::npos);  // only with a publisher
}

TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";
  char path[] = "/tmp/tierkv-metrics-XXXXXX";
  const int fd = mkstemp(path);
  MetricsSnapshot s = Sample();
  s.kv_events = true;
  const std::string text = Text(s);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  const std::string cmd = std::string("/usr/bin/promtool check metrics < ") + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  unlink(path);
  EXPECT_EQ(status, 0) << out << text;
  EXPECT_EQ(out, "") << out;  // no lint findings either
}

TEST(MetricsTest, TenantsPastTheLimitShareOneLabel) {
  MetricsSnapshot s = Sample();
  s.tenants.clear();
  for (size_t i = 0; i < MetricsSnapshot::kMaxTenantLabels; ++i) {
    s.tenants.push_back({"t" + std::to_string(i), 1, 0, 0});
  }
  s.tenants.push_back({MetricsSnapshot::kOtherTenants, 5, 0, 0});
  const std::string text = Text(s);
  EXPECT_NE(text.find("tierkv_tenant_blocks{tenant=\"_other\"} 5"), std::string::npos);
}

std::string HttpGet(const std::string& host_port, const std::string& path) {
  auto address = ParseAddress(host_port);
  if (!address.ok()) return "";
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(address->port);
  inet_pton(AF_INET, address->host.c_str(), &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: x\r\nConnection: close\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) response.append(buf, n);
  close(fd);
  return response;
}

TEST(MetricsExporterTest, AScrapeTakesAFreshSnapshotOnTheLoop) {
  int snapshots = 0;
  auto exporter = MetricsExporter::Start(
      "127.0.0.1:0", [](std::function<void()> f) { f(); },
      [&] {
        MetricsSnapshot s = Sample();
        s.connections = ++snapshots;
        return s;
      });
  ASSERT_TRUE(exporter.ok()) << exporter.status().ToString();
  const std::string first = HttpGet((*exporter)->address(), "/metrics");
  const std::string second = HttpGet((*exporter)->address(), "/metrics");
  EXPECT_NE(first.find("200 OK"), std::string::npos) << first;
  EXPECT_NE(first.find("tierkv_connections 1"), std::string::npos) << first;
  EXPECT_NE(second.find("tierkv_connections 2"), std::string::npos) << second;
}

TEST(MetricsExporterTest, ALoopThatDoesNotAnswerGetsThePreviousSnapshot) {
  std::mutex mu;
  std::vector<std::function<void()>> parked;  // guarded by mu
  std::atomic<bool> answer{true};
  auto exporter = MetricsExporter::Start(
      "127.0.0.1:0",
      [&](std::function<void()> f) {
        if (answer) {
          f();
        } else {
          std::lock_guard lock(mu);
          parked.push_back(std::move(f));  // a loop busy with a long evict
        }
      },
      [] { return Sample(); });
  ASSERT_TRUE(exporter.ok());
  EXPECT_NE(HttpGet((*exporter)->address(), "/metrics").find("tierkv_connections 3"),
            std::string::npos);
  answer = false;
  const std::string stale = HttpGet((*exporter)->address(), "/metrics");
  EXPECT_NE(stale.find("tierkv_connections 3"), std::string::npos) << stale;
  std::lock_guard lock(mu);
  for (auto& f : parked) f();  // runs late; nobody waits any more
}

TEST(MetricsExporterTest, ABusyAddressIsNamed) {
  auto first = MetricsExporter::Start(
      "127.0.0.1:0", [](std::function<void()> f) { f(); }, [] { return MetricsSnapshot(); });
  ASSERT_TRUE(first.ok());
  auto second = MetricsExporter::Start((*first)->address(), [](std::function<void()> f) { f(); },
                                       [] { return MetricsSnapshot(); });
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("metrics: cannot listen on " + (*first)->address()),
            std::string::npos)
      << second.status().ToString();
}

}  // namespace
}  // namespace tierkv
