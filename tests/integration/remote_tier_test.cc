// The remote tier under real tierkvd processes and a real Redis Cluster
// (scripts/redis-cluster.sh, started once for the suite) or one redis-server:
// a prefix stored through daemon A is found and read byte-exact through
// daemon B (same secret, own data dir and sockets), also after A stopped; a
// value tampered with by redis-cli is dropped and is a miss; the cluster
// stopped under a daemon (local tiers keep serving, the tier shows down) and
// restarted (used again); write-on-evict into one server. Waits are on
// conditions with generous deadlines.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"
#include "tiers/remote/testing/redis_process.h"
#include "tiers/remote/value_codec.h"

namespace tierkv::testing {
namespace {

namespace rt = remote::testing;

constexpr uint64_t kBlockBytes = 64 << 10;
constexpr size_t kPromptBlocks = 8;

uint64_t RemoteField(Client& client, const char* field) {
  const nlohmann::json row = TierJson(client, "remote");
  return row.is_null() ? 0 : row.at(field).get<uint64_t>();
}

std::string RemoteState(Client& client) {
  const nlohmann::json row = TierJson(client, "remote");
  return row.is_null() ? "" : row.at("state").get<std::string>();
}

// Waits until `client`'s daemon has written `blocks` blocks to the remote tier.
bool WaitWritten(Client& client, uint64_t blocks) {
  return WaitUntil([&] { return RemoteField(client, "blocks_written") >= blocks; });
}

// Daemons that share a remote tier share one secret file (--secret-file):
// both then derive the same namespace ids, so they share its keys. The first
// daemon creates the file; the second reads it.
std::vector<std::string> WithSharedSecret(std::vector<std::string> flags,
                                          const std::string& dir) {
  flags.insert(flags.end(), {"--secret-file", dir + "/fleet.secret"});
  return flags;
}

class RemoteTierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new rt::ScratchDir("tierkv-remote-tier-");
    auto cluster = rt::RedisCluster::Start(dir_->path());
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = cluster->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete dir_;
    cluster_ = nullptr;
    dir_ = nullptr;
  }

  static std::vector<std::string> RemoteFlags(const std::string& url) {
    return WithSharedSecret({"--remote-url", url}, dir_->path());
  }

  static rt::ScratchDir* dir_;
  static rt::RedisCluster* cluster_;
};

rt::ScratchDir* RemoteTierTest::dir_ = nullptr;
rt::RedisCluster* RemoteTierTest::cluster_ = nullptr;

TEST_F(RemoteTierTest, PrefixStoredThroughOneDaemonIsReadByteExactThroughAnother) {
  ASSERT_NE(cluster_, nullptr);
  DaemonProcess a(RemoteFlags(cluster_->url()));
  ASSERT_TRUE(a.Start()) << a.log();
  DaemonProcess b(RemoteFlags(cluster_->url()));
  ASSERT_TRUE(b.Start()) << b.log();
  auto client_a = std::move(a.Connect()).value();
  auto client_b = std::move(b.Connect()).value();
  const Namespace ns_a = *client_a->OpenNamespace(TestSpec(kBlockBytes));
  const Namespace ns_b = *client_b->OpenNamespace(TestSpec(kBlockBytes));
  ASSERT_EQ(ns_a.id, ns_b.id) << "one secret, one spec: one namespace id";

  const StoredPrompt stored = PutStoredPrompt(*client_a, ns_a, 0, kPromptBlocks);
  ASSERT_TRUE(WaitWritten(*client_a, kPromptBlocks)) << a.log();
  // A is gone: B reads from the cluster alone.
  ASSERT_EQ(a.Stop(), 0) << a.log();

  auto hit = client_b->Lookup(ns_b, stored.prompt.keys, stored.prompt.tokens);
  ASSERT_TRUE(hit.ok()) << hit.status().ToString();
  ASSERT_EQ(hit->matched_blocks, kPromptBlocks) << b.log();
  for (TierKind t : hit->locations) EXPECT_EQ(t, TierKind::kRemote);
  bool exact = false;
  EXPECT_EQ(GetExact(*client_b, ns_b, stored, &exact), kPromptBlocks) << b.log();
  EXPECT_TRUE(exact);
  // Promoted: B holds it locally now.
  hit = client_b->Lookup(ns_b, stored.prompt.keys, stored.prompt.tokens);
  ASSERT_EQ(hit->matched_blocks, kPromptBlocks);
  EXPECT_EQ(hit->locations[0], TierKind::kHost);
  EXPECT_EQ(RemoteField(*client_b, "hits"), kPromptBlocks);
  EXPECT_EQ(RemoteField(*client_b, "promotions"), kPromptBlocks);
  EXPECT_EQ(RemoteField(*client_b, "errors"), 0u);
  EXPECT_EQ(RemoteState(*client_b), "up");
}

TEST_F(RemoteTierTest, TamperedValueIsDroppedAndServedAsAMiss) {
  ASSERT_NE(cluster_, nullptr);
  DaemonProcess a(RemoteFlags(cluster_->url()));
  ASSERT_TRUE(a.Start()) << a.log();
  DaemonProcess b(RemoteFlags(cluster_->url()));
  ASSERT_TRUE(b.Start()) << b.log();
  auto client_a = std::move(a.Connect()).value();
  auto client_b = std::move(b.Connect()).value();
  const Namespace ns_a = *client_a->OpenNamespace(TestSpec(kBlockBytes));
  const Namespace ns_b = *client_b->OpenNamespace(TestSpec(kBlockBytes));
  const StoredPrompt stored = PutStoredPrompt(*client_a, ns_a, 1, kPromptBlocks);
  ASSERT_TRUE(WaitWritten(*client_a, kPromptBlocks)) << a.log();

  constexpr size_t kTampered = 3;
  const std::string name = remote::RemoteKeyName(ns_a.id, stored.prompt.keys[kTampered]);
  auto set = rt::RedisCli(cluster_->ports()[0], {"SET", name, "not a block"}, /*cluster=*/true);
  ASSERT_TRUE(set.ok()) << set.status().ToString();

  auto hit = client_b->Lookup(ns_b, stored.prompt.keys, stored.prompt.tokens);
  ASSERT_TRUE(hit.ok()) << hit.status().ToString();
  EXPECT_EQ(hit->matched_blocks, kTampered) << "the chain ends at the tampered block";
  bool exact = false;
  EXPECT_EQ(GetExact(*client_b, ns_b, stored, &exact), kTampered) << b.log();
  EXPECT_TRUE(exact);
  EXPECT_GE(RemoteField(*client_b, "corrupt_dropped"), 1u);
  auto gone = rt::RedisCli(cluster_->ports()[0], {"EXISTS", name}, /*cluster=*/true);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, "0") << "a value that fails verification is deleted";
}

TEST_F(RemoteTierTest, ClusterStoppedLocalTiersServeAndTheTierRecovers) {
  ASSERT_NE(cluster_, nullptr);
  DaemonProcess a(RemoteFlags(cluster_->url()));
  ASSERT_TRUE(a.Start()) << a.log();
  auto client = std::move(a.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const StoredPrompt before = PutStoredPrompt(*client, ns, 2, kPromptBlocks);
  ASSERT_TRUE(WaitWritten(*client, kPromptBlocks)) << a.log();

  ASSERT_TRUE(cluster_->Stop().ok());
  // Puts and gets go on; what cannot be written remotely is counted.
  const StoredPrompt during = PutStoredPrompt(*client, ns, 3, kPromptBlocks);
  bool exact = false;
  EXPECT_EQ(GetExact(*client, ns, before, &exact), kPromptBlocks);
  EXPECT_TRUE(exact);
  EXPECT_EQ(GetExact(*client, ns, during, &exact), kPromptBlocks);
  EXPECT_TRUE(exact);
  // A prefix on no tier is a miss, answered without waiting for the cluster.
  const StoredPrompt unknown = MakeStoredPrompt(ns, 9, kPromptBlocks);
  auto miss = client->Lookup(ns, unknown.prompt.keys, unknown.prompt.tokens);
  ASSERT_TRUE(miss.ok()) << miss.status().ToString();
  EXPECT_EQ(miss->matched_blocks, 0u);
  EXPECT_TRUE(WaitUntil([&] { return RemoteState(*client) == "down"; })) << a.log();
  EXPECT_TRUE(WaitUntil([&] { return RemoteField(*client, "errors") > 0; }));

  ASSERT_TRUE(cluster_->Restart().ok());
  EXPECT_TRUE(WaitUntil([&] { return RemoteState(*client) == "up"; })) << a.log();
  const uint64_t written = RemoteField(*client, "blocks_written");
  PutStoredPrompt(*client, ns, 4, kPromptBlocks);
  EXPECT_TRUE(WaitWritten(*client, written + kPromptBlocks)) << a.log();
}

TEST(RemoteTierSingleServerTest, WriteOnEvictReachesOneServer) {
  rt::ScratchDir dir("tierkv-remote-single-");
  auto server = rt::RedisServer::Start(dir.path());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  // No NVMe tier and a host tier of 128 blocks: older prompts are evicted,
  // and written to the server as they leave.
  const std::vector<std::string> flags = WithSharedSecret(
      {"--remote-url", (*server)->url(), "--remote-write", "evict", "--nvme-bytes", "0",
       "--host-bytes", "8MiB", "--slab-bytes", "1MiB"},
      dir.path());
  DaemonProcess a(flags);
  ASSERT_TRUE(a.Start()) << a.log();
  auto client_a = std::move(a.Connect()).value();
  const Namespace ns_a = *client_a->OpenNamespace(TestSpec(kBlockBytes));
  constexpr size_t kPrompts = 20;  // 160 blocks
  std::vector<StoredPrompt> stored;
  for (size_t i = 0; i < kPrompts; ++i) {
    stored.push_back(PutStoredPrompt(*client_a, ns_a, i, kPromptBlocks));
  }
  ASSERT_TRUE(WaitWritten(*client_a, kPromptBlocks)) << a.log();
  EXPECT_EQ(TierJson(*client_a, "remote").at("write_policy"), "evict");
  auto local = client_a->Lookup(ns_a, stored[0].prompt.keys, stored[0].prompt.tokens);
  ASSERT_TRUE(local.ok());
  ASSERT_EQ(local->matched_blocks, kPromptBlocks) << "the evicted prompt is found remotely";
  EXPECT_EQ(local->locations[0], TierKind::kRemote);

  DaemonProcess b(flags);
  ASSERT_TRUE(b.Start()) << b.log();
  auto client_b = std::move(b.Connect()).value();
  const Namespace ns_b = *client_b->OpenNamespace(TestSpec(kBlockBytes));
  bool exact = false;
  EXPECT_EQ(GetExact(*client_b, ns_b, stored[0], &exact), kPromptBlocks) << b.log();
  EXPECT_TRUE(exact);
}

}  // namespace
}  // namespace tierkv::testing
