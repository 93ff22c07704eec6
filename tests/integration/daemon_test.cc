// End-to-end tests against a real tierkvd process: sharing between client
// processes, the TCP data path, statistics, eviction and shutdown.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"

namespace tierkv::testing {
namespace {

constexpr uint64_t kBlockBytes = 256 * 1024;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonProcess>();
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
    client_ = std::move(daemon_->Connect()).value();
    ns_ = *client_->OpenNamespace(TestSpec(kBlockBytes));
  }

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Client> client_;
  Namespace ns_;
};

TEST_F(DaemonTest, TwoClientProcessesShareBlocks) {
  const Prompt p = MakePrompt(ns_, 8);
  const auto payload = Payload(ns_, 8, 42);
  ASSERT_TRUE(client_->Put(ns_, ns_.id, p.keys, p.tokens, payload).ok());

  // A second process opens the same namespace, finds the prefix and reads it
  // byte-exact out of the shared pool.
  pid_t pid = fork();
  if (pid == 0) {
    auto other = daemon_->Connect();
    if (!other.ok()) _exit(10);
    auto ns = (*other)->OpenNamespace(TestSpec(kBlockBytes));
    if (!ns.ok() || !(ns->id == ns_.id)) _exit(11);
    auto hit = (*other)->Lookup(*ns, p.keys, p.tokens);
    if (!hit.ok() || hit->matched_blocks != 8) _exit(12);
    std::vector<std::byte> out(payload.size());
    auto n = (*other)->Get(*ns, p.keys, p.tokens, out);
    if (!n.ok() || *n != 8) _exit(13);
    _exit(out == payload ? 0 : 14);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(DaemonTest, LookupFindsTheLongestVerifiedPrefix) {
  const Prompt p = MakePrompt(ns_, 6);
  ASSERT_TRUE(client_->Put(ns_, ns_.id, std::span(p.keys).first(4),
                           std::span(p.tokens).first(4 * ns_.block_tokens),
                           Payload(ns_, 4, 1))
                  .ok());
  auto hit = client_->Lookup(ns_, p.keys, p.tokens);
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->matched_blocks, 4u);
  for (TierKind t : hit->locations) EXPECT_EQ(t, TierKind::kHost);
  // Put the rest, continuing the chain from block 3.
  ASSERT_TRUE(client_->Put(ns_, p.keys[3], std::span(p.keys).subspan(4),
                           std::span(p.tokens).subspan(4 * ns_.block_tokens), Payload(ns_, 2, 2))
                  .ok());
  EXPECT_EQ(client_->Lookup(ns_, p.keys, p.tokens)->matched_blocks, 6u);
}

// Verified hits: a lookup or acquire that presents stored keys with other
// tokens (what a hash collision would look like) matches only up to the
// first block whose tokens differ, so another prompt's KV is never served.
TEST_F(DaemonTest, StoredKeysWithOtherTokensDoNotMatch) {
  const Prompt p = MakePrompt(ns_, 4);
  ASSERT_TRUE(client_->Put(ns_, ns_.id, p.keys, p.tokens, Payload(ns_, 4, 3)).ok());
  auto tokens = p.tokens;
  tokens[2 * ns_.block_tokens + 5] += 1;  // block 2's tokens differ, its key is the stored one
  EXPECT_EQ(client_->Lookup(ns_, p.keys, tokens)->matched_blocks, 2u);
  std::vector<std::byte> out(4 * kBlockBytes);
  EXPECT_EQ(*client_->Get(ns_, p.keys, tokens, out), 2u);
  auto tcp = std::move(daemon_->ConnectTcp()).value();
  const Namespace ns = *tcp->OpenNamespace(TestSpec(kBlockBytes));
  EXPECT_EQ(*tcp->Get(ns, p.keys, tokens, out), 2u);
  tokens[5] += 1;  // and block 0's
  EXPECT_EQ(client_->Lookup(ns_, p.keys, tokens)->matched_blocks, 0u);
  EXPECT_EQ(*client_->Get(ns_, p.keys, tokens, out), 0u);
  // The stored prompt itself still matches whole.
  EXPECT_EQ(client_->Lookup(ns_, p.keys, p.tokens)->matched_blocks, 4u);
}

TEST_F(DaemonTest, TcpClientsSendAndReceivePayloadsInline) {
  auto tcp = daemon_->ConnectTcp();
  ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
  EXPECT_FALSE((*tcp)->is_local());
  auto ns = (*tcp)->OpenNamespace(TestSpec(kBlockBytes));
  ASSERT_TRUE(ns.ok());
  const Prompt p = MakePrompt(*ns, 5, 1000);
  const auto payload = Payload(*ns, 5, 7);
  ASSERT_TRUE((*tcp)->Put(*ns, ns->id, p.keys, p.tokens, payload).ok());
  // Written over TCP, read over the Unix socket and over TCP: same bytes.
  std::vector<std::byte> local_out(payload.size()), tcp_out(payload.size());
  EXPECT_EQ(*client_->Get(ns_, p.keys, p.tokens, local_out), 5u);
  EXPECT_EQ(*(*tcp)->Get(*ns, p.keys, p.tokens, tcp_out), 5u);
  EXPECT_EQ(local_out, payload);
  EXPECT_EQ(tcp_out, payload);
}

TEST_F(DaemonTest, StatsCountBlocksHitsAndMisses) {
  const Prompt p = MakePrompt(ns_, 3);
  ASSERT_TRUE(client_->Put(ns_, ns_.id, p.keys, p.tokens, Payload(ns_, 3, 5)).ok());
  ASSERT_TRUE(client_->Lookup(ns_, p.keys, p.tokens).ok());
  const Prompt miss = MakePrompt(ns_, 2, 999999);
  ASSERT_TRUE(client_->Lookup(ns_, miss.keys, miss.tokens).ok());
  auto stats = client_->GetStats();
  ASSERT_TRUE(stats.ok());
  const TierStats host = TierRow(*client_, "host");
  EXPECT_EQ(host.blocks, 3u);
  EXPECT_EQ(host.used_bytes, 3 * kBlockBytes);
  EXPECT_EQ(host.hits, 3u);
  EXPECT_EQ(host.misses, 2u);  // blocks asked and not found
  EXPECT_EQ(host.bytes_in, 3 * kBlockBytes);
  ASSERT_EQ(stats->namespaces.size(), 1u);
  EXPECT_EQ(stats->namespaces[0].blocks, 3u);
  EXPECT_EQ(stats->namespaces[0].hits, 3u);
  EXPECT_EQ(stats->namespaces[0].misses, 2u);
}

TEST_F(DaemonTest, EvictDropsUnpinnedBlocks) {
  const Prompt p = MakePrompt(ns_, 4);
  ASSERT_TRUE(client_->Put(ns_, ns_.id, p.keys, p.tokens, Payload(ns_, 4, 5)).ok());
  auto lease = client_->Acquire(ns_, p.keys, p.tokens, 1);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(*client_->Evict(&ns_), 3u);
  EXPECT_EQ(client_->Lookup(ns_, p.keys, p.tokens)->matched_blocks, 1u);
  ASSERT_TRUE(lease->Release().ok());
  EXPECT_EQ(*client_->Evict(nullptr), 1u);
}

// What a bad request must leave unchanged.
struct StoreSnapshot {
  TierStats host;
  uint64_t indexed_blocks = 0;
  size_t namespaces = 0;
  uint64_t namespace_blocks = 0;
};

StoreSnapshot Snapshot(Client& c) {
  StoreSnapshot s;
  s.host = TierRow(c, "host");
  const nlohmann::json doc = StatsJson(c);
  s.indexed_blocks = doc.at("indexed_blocks").get<uint64_t>();
  s.namespaces = doc.at("namespaces").size();
  for (const auto& ns : doc.at("namespaces")) s.namespace_blocks += ns.at("blocks").get<uint64_t>();
  return s;
}

void ExpectUnchanged(const StoreSnapshot& before, const StoreSnapshot& after) {
  EXPECT_EQ(after.host.blocks, before.host.blocks);
  EXPECT_EQ(after.host.used_bytes, before.host.used_bytes);
  EXPECT_EQ(after.host.pinned_blocks, before.host.pinned_blocks);
  EXPECT_EQ(after.host.bytes_in, before.host.bytes_in);
  EXPECT_EQ(after.indexed_blocks, before.indexed_blocks);
  EXPECT_EQ(after.namespaces, before.namespaces);
  EXPECT_EQ(after.namespace_blocks, before.namespace_blocks);
}

void ExpectError(const Status& s, StatusCode code, const std::string& says) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(says), std::string::npos)
      << "the error should say \"" << says << "\": " << s.ToString();
}

TEST_F(DaemonTest, BadRequestsGetClearErrorsAndChangeNothing) {
  const Prompt p = MakePrompt(ns_, 2);
  ASSERT_TRUE(client_->Put(ns_, ns_.id, p.keys, p.tokens, Payload(ns_, 2, 5)).ok());
  const StoreSnapshot before = Snapshot(*client_);
  ASSERT_EQ(before.host.blocks, 2u);

  // Wrong payload size: the client library refuses it before sending (the
  // daemon's own check on inline payloads is in protocol_abuse_test).
  ExpectError(client_->Put(ns_, ns_.id, p.keys, p.tokens, Payload(ns_, 1, 5)),
              StatusCode::kInvalidArgument, "want " + std::to_string(2 * kBlockBytes));
  // Keys that are not the hash of their tokens: the daemon refuses the
  // whole chain, including the blocks before the forged one.
  const Prompt other = MakePrompt(ns_, 2, 5000);
  auto forged = other.keys;
  forged[1].hi ^= 1;
  ExpectError(client_->Reserve(ns_, ns_.id, forged, other.tokens).status(),
              StatusCode::kInvalidArgument, "block 1: key is not the hash of its parent");
  // Tokens that do not fill the blocks.
  ExpectError(client_->Lookup(ns_, p.keys, std::span(p.tokens).first(p.tokens.size() - 1)).status(),
              StatusCode::kInvalidArgument, "tokens for 2 blocks");
  // Unknown namespace.
  Namespace bogus = ns_;
  bogus.handle = 999;
  ExpectError(client_->Lookup(bogus, p.keys, p.tokens).status(), StatusCode::kNotFound,
              "unknown namespace handle 999");
  ExpectError(client_->Reserve(bogus, bogus.id, other.keys, other.tokens).status(),
              StatusCode::kNotFound, "unknown namespace handle 999");
  // Impossible namespace specs.
  ExpectError(client_->OpenNamespace(TestSpec(0)).status(), StatusCode::kInvalidArgument,
              "block_bytes must be 1..");
  ExpectError(client_->OpenNamespace(TestSpec(1ull << 40)).status(), StatusCode::kInvalidArgument,
              "block_bytes must be 1..");

  ExpectUnchanged(before, Snapshot(*client_));
  EXPECT_EQ(client_->Lookup(ns_, other.keys, other.tokens)->matched_blocks, 0u);
  // Everything stored is intact.
  std::vector<std::byte> out(2 * kBlockBytes);
  EXPECT_EQ(*client_->Get(ns_, p.keys, p.tokens, out), 2u);
  EXPECT_EQ(out, Payload(ns_, 2, 5));
}

// A block reserved and not yet committed is being written: another
// reserver of the same chain gets no slot for it (and writes nothing), and
// lookups do not see it until its writer commits.
TEST_F(DaemonTest, ReserversSkipBlocksStillBeingWritten) {
  const Prompt p = MakePrompt(ns_, 3);
  const auto first_bytes = Payload(ns_, 3, 21);
  auto first = client_->Reserve(ns_, ns_.id, p.keys, p.tokens);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(first->payload(i).size(), kBlockBytes) << "block " << i;
    std::memcpy(first->payload(i).data(), first_bytes.data() + i * kBlockBytes, kBlockBytes);
  }
  auto other = std::move(daemon_->Connect()).value();
  const Namespace ns = *other->OpenNamespace(TestSpec(kBlockBytes));
  auto second = other->Reserve(ns, ns.id, p.keys, p.tokens);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(second->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(second->payload(i).empty()) << "block " << i << " got a second slot";
  }
  EXPECT_EQ(TierRow(*client_, "host").used_bytes, 3 * kBlockBytes);
  EXPECT_EQ(other->Lookup(ns, p.keys, p.tokens)->matched_blocks, 0u);
  ASSERT_TRUE(second->Commit().ok());
  EXPECT_EQ(other->Lookup(ns, p.keys, p.tokens)->matched_blocks, 0u)
      << "a commit of skipped blocks published the other writer's blocks";
  ASSERT_TRUE(first->Commit().ok());
  std::vector<std::byte> out(3 * kBlockBytes);
  EXPECT_EQ(*other->Get(ns, p.keys, p.tokens, out), 3u);
  EXPECT_EQ(out, first_bytes);
}

// Found by fuzz_request_handler: a namespace named with bytes that are not
// UTF-8 made the stats document throw when dumped, killing the daemon.
TEST_F(DaemonTest, StatsSurviveNamesThatAreNotUtf8) {
  NamespaceSpec spec = TestSpec(kBlockBytes);
  spec.model_fingerprint = "model-\xff\x8f";
  spec.adapter_id = "\xc3";
  auto ns = client_->OpenNamespace(spec);
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  auto stats = client_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->namespaces.size(), 2u);
  EXPECT_TRUE(client_->GetHealth().ok());
}

TEST_F(DaemonTest, AbortedAndAbandonedReservationsFreeTheirSlots) {
  const Prompt aborted = MakePrompt(ns_, 4);
  const Prompt abandoned = MakePrompt(ns_, 3, 40000);
  {
    auto res = client_->Reserve(ns_, ns_.id, aborted.keys, aborted.tokens);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_EQ(res->size(), 4u);
    EXPECT_EQ(TierRow(*client_, "host").used_bytes, 4 * kBlockBytes);
    ASSERT_TRUE(res->Abort().ok());
    EXPECT_EQ(TierRow(*client_, "host").used_bytes, 0u);
  }
  {
    auto res = client_->Reserve(ns_, ns_.id, abandoned.keys, abandoned.tokens);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(TierRow(*client_, "host").used_bytes, 3 * kBlockBytes);
    // Destroyed uncommitted: aborted.
  }
  const TierStats host = TierRow(*client_, "host");
  EXPECT_EQ(host.used_bytes, 0u);
  EXPECT_EQ(host.blocks, 0u);
  EXPECT_EQ(client_->Lookup(ns_, aborted.keys, aborted.tokens)->matched_blocks, 0u);
  EXPECT_EQ(client_->Lookup(ns_, abandoned.keys, abandoned.tokens)->matched_blocks, 0u);
  // The keys are free again: the same chains can be stored and read.
  ASSERT_TRUE(client_->Put(ns_, ns_.id, aborted.keys, aborted.tokens, Payload(ns_, 4, 8)).ok());
  std::vector<std::byte> out(4 * kBlockBytes);
  EXPECT_EQ(*client_->Get(ns_, aborted.keys, aborted.tokens, out), 4u);
  EXPECT_EQ(out, Payload(ns_, 4, 8));
}

// A size class with nothing to evict takes room from another class's least
// recently used blocks: a pool full of 1 MiB blocks still takes 512 KiB ones.
TEST(DaemonEvictionTest, AFullPoolTakesBlocksOfAnotherSizeFromItsOldest) {
  constexpr uint64_t kBig = 1 << 20;
  constexpr uint64_t kSmall = kBig / 2;
  constexpr size_t kBigPrompts = 8;  // 8 x 8 MiB: the whole 64 MiB pool
  constexpr size_t kPromptBlocks = 8;
  DaemonProcess daemon({"--nvme-bytes", "0"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace big = *client->OpenNamespace(TestSpec(kBig));
  const Namespace small = *client->OpenNamespace(TestSpec(kSmall));
  std::vector<Prompt> bigs;
  for (size_t i = 0; i < kBigPrompts; ++i) {
    bigs.push_back(MakePrompt(big, kPromptBlocks, static_cast<TokenId>(100000 * (i + 1))));
    ASSERT_TRUE(
        client->Put(big, big.id, bigs[i].keys, bigs[i].tokens, Payload(big, kPromptBlocks, i + 1))
            .ok());
  }
  ASSERT_EQ(TierRow(*client, "host").used_bytes, kBigPrompts * kPromptBlocks * kBig);
  // One slab's worth of small blocks (8 MiB).
  const Prompt p = MakePrompt(small, 16, 7000000);
  const auto small_bytes = Payload(small, 16, 99);
  ASSERT_TRUE(client->Put(small, small.id, p.keys, p.tokens, small_bytes).ok());
  std::vector<std::byte> out(small_bytes.size());
  EXPECT_EQ(*client->Get(small, p.keys, p.tokens, out), 16u);
  EXPECT_EQ(out, small_bytes);
  // The room came from the oldest big prompt, tail first; the newest is whole.
  EXPECT_GE(TierRow(*client, "host").evictions, kPromptBlocks);
  EXPECT_EQ(client->Lookup(big, bigs[0].keys, bigs[0].tokens)->matched_blocks, 0u);
  std::vector<std::byte> newest(kPromptBlocks * kBig);
  EXPECT_EQ(*client->Get(big, bigs.back().keys, bigs.back().tokens, newest), kPromptBlocks);
  EXPECT_EQ(newest, Payload(big, kPromptBlocks, kBigPrompts));
}

TEST(DaemonLifecycleTest, SigtermStopsCleanlyAndRemovesTheSocket) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = daemon.Connect();
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(daemon.Stop(), 0) << daemon.log();
  struct stat st;
  EXPECT_NE(stat(daemon.socket_path().c_str(), &st), 0);
  EXPECT_NE(daemon.log().find("tierkvd stopped"), std::string::npos);
}

TEST(DaemonLifecycleTest, SocketIsOwnerAndGroupOnly) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  struct stat st;
  ASSERT_EQ(stat(daemon.socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST(DaemonLifecycleTest, SecretFileIsOwnerOnly) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  struct stat st;
  ASSERT_EQ(stat((daemon.dir() + "/data/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
}

TEST(DaemonLifecycleTest, AFlagGivenTwiceTakesItsLastValue) {
  // DaemonProcess passes --host-bytes 64MiB first; these come after it.
  DaemonProcess daemon({"--host-bytes", "16MiB", "--host-bytes", "48MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  EXPECT_EQ(TierRow(*client, "host").capacity_bytes, uint64_t{48} << 20);
}

TEST(DaemonLifecycleTest, AdminTokenGuardsEvict) {
  DaemonProcess daemon({"--admin-token", "s3cret"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  // Over TCP (on the Unix socket the daemon's own uid is admin too).
  auto plain = daemon.ConnectTcp();
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->Evict(nullptr).status().code(), StatusCode::kPermissionDenied);
  ConnectOptions with_token;
  with_token.address = daemon.tcp_address();
  with_token.admin_token = "s3cret";
  auto admin = Client::Connect(with_token);
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE((*admin)->Evict(nullptr).ok());
}

TEST(DaemonLifecycleTest, BadFlagsFailWithAMessage) {
  DaemonProcess daemon({"--host-bytes", "lots"});
  EXPECT_FALSE(daemon.Start());
  const std::string log = daemon.log();
  EXPECT_NE(log.find("not a byte size"), std::string::npos) << "log: " << log;
}

}  // namespace
}  // namespace tierkv::testing
