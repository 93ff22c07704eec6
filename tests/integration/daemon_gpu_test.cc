// The daemon's GPU tier as clients see it where it is off: it says why (in
// its log, once; in gpu_pool replies; in stats and `tierkv stats`), and
// acquires that ask for GPU locations are served from the host.
// daemon_gpu_cuda_test.cc covers a daemon with the tier on (needs a GPU).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>

#include "tests/integration/daemon_process.h"

namespace tierkv::testing {
namespace {

constexpr uint64_t kBlockBytes = 64 * 1024;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string RunCli(const DaemonProcess& d, const std::string& args) {
  const std::string cmd = BinDir() + "/tierkv --socket " + d.socket_path() + " " + args + " 2>&1";
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    ::pclose(f);
  }
  return out;
}

TEST(DaemonGpuTest, TurnedOffByConfigSaysSoEverywhere) {
  DaemonProcess daemon({"--gpu-bytes", "0"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  auto pool = client->GpuPool();
  EXPECT_EQ(pool.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(pool.status().message().find("gpu tier is off: gpu_bytes is 0"), std::string::npos)
      << pool.status().ToString();
  EXPECT_EQ(Count(daemon.log(), "gpu tier: off (gpu_bytes is 0)"), 1u) << daemon.log();
  auto stats = client->GetStats();
  ASSERT_TRUE(stats.ok());
  const auto doc = nlohmann::json::parse(stats->raw_json);
  EXPECT_FALSE(doc["gpu_tier"]["enabled"].get<bool>());
  EXPECT_EQ(doc["gpu_tier"]["reason"], "gpu_bytes is 0");
  for (const auto& t : stats->tiers) EXPECT_NE(t.name, "gpu");
  EXPECT_NE(RunCli(daemon, "stats").find("gpu: off (gpu_bytes is 0)"), std::string::npos);
}

TEST(DaemonGpuTest, WithoutADeviceTheTierIsOffAndGpuAcquiresAreServedFromTheHost) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  auto pool = client->GpuPool();
  if (pool.ok()) GTEST_SKIP() << "this machine has a GPU tier: " << pool->description;
  EXPECT_EQ(pool.status().code(), StatusCode::kUnavailable) << pool.status().ToString();
  EXPECT_EQ(Count(daemon.log(), "gpu tier: off ("), 1u) << daemon.log();

  auto ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const Prompt p = MakePrompt(ns, 4);
  const auto payload = Payload(ns, 4, 7);
  ASSERT_TRUE(client->Put(ns, ns.id, p.keys, p.tokens, payload).ok());
  for (int round = 0; round < 2; ++round) {
    auto lease = client->Acquire(ns, p.keys, p.tokens, 4, AcquireOptions{.gpu = true});
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    ASSERT_EQ(lease->size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
      ASSERT_EQ(lease->location(i), TierKind::kHost);
      const auto want = std::span(payload).subspan(i * kBlockBytes, kBlockBytes);
      EXPECT_TRUE(std::equal(want.begin(), want.end(), lease->payload(i).begin()));
    }
  }
}

TEST(DaemonGpuTest, GpuReservationsCommitAsUsualWithoutATier) {
  DaemonProcess daemon({"--gpu-bytes", "0"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  auto ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const Prompt p = MakePrompt(ns, 3);
  const auto payload = Payload(ns, 3, 5);
  auto res = client->Reserve(ns, ns.id, p.keys, p.tokens, ReserveOptions{.gpu = true});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  for (size_t i = 0; i < 3; ++i) {
    std::memcpy(res->payload(i).data(), payload.data() + i * kBlockBytes, kBlockBytes);
  }
  ASSERT_TRUE(res->Commit().ok());
  std::vector<std::byte> out(payload.size());
  auto n = client->Get(ns, p.keys, p.tokens, out);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(out, payload);
}

TEST(DaemonGpuTest, GpuPoolOverTcpIsRefusedClearly) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.ConnectTcp()).value();
  auto pool = client->GpuPool();
  EXPECT_EQ(pool.status().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace tierkv::testing
