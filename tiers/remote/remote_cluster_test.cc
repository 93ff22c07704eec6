// RemoteStore against a real 3-master, 3-replica Redis Cluster started by each
// test (scripts/redis-cluster.sh): keys spread over every master; a master
// killed during traffic; a slot migrated during traffic (ASK, then MOVED); the
// whole cluster stopped and restarted; maxmemory with allkeys-lru; a value
// tampered with through redis-cli. Traffic runs on a store of its own (as
// another daemon would), checks each block it reads byte for byte, and the
// test asserts on what it saw. Waits are on conditions with generous deadlines.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tiers/remote/key_slot.h"
#include "tiers/remote/remote_store.h"
#include "tiers/remote/testing/redis_process.h"
#include "tiers/remote/testing/test_blocks.h"

namespace tierkv::remote {
namespace {

using std::chrono::milliseconds;
using testing::Chain;
using testing::ChainBlock;
using testing::RedisCli;
using testing::RedisCluster;
using testing::ScratchDir;
using testing::TestPayload;
using testing::WaitFor;

constexpr Key128 kNamespace{0xC1C1, 0x5EED};
constexpr size_t kBlockBytes = 16 << 10;
// Generous: the machine running the tests may be loaded, and a failover or a
// migration must never turn into a timeout.
constexpr milliseconds kOpTimeout{10'000};

std::string Name(const RemoteBlock& block) { return RemoteKeyName(block.namespace_id, block.key); }

// Blocks (block 0 of chains of distinct namespaces) whose keys share `slot`.
std::vector<RemoteBlock> BlocksInSlot(uint16_t slot, size_t count) {
  std::vector<RemoteBlock> out;
  for (uint64_t ns = 1; out.size() < count; ++ns) {
    RemoteBlock block = ChainBlock({ns, 0xA5A5}, 0);
    if (KeySlot(Name(block)) == slot) out.push_back(std::move(block));
  }
  return out;
}

// Reads and writes `blocks` in rounds on a store of its own until stopped.
// A block's payload is always TestPayload(index, bytes), so every read is
// checked byte for byte whoever wrote it.
class Traffic {
 public:
  Traffic(const std::string& url, std::vector<RemoteBlock> blocks, size_t bytes)
      : blocks_(std::move(blocks)), bytes_(bytes) {
    for (size_t i = 0; i < blocks_.size(); ++i) payloads_.push_back(TestPayload(i, bytes_));
    RemoteOptions options;
    options.url = url;
    options.op_timeout = kOpTimeout;
    auto store = RemoteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    thread_ = std::thread([this] { Run(); });
  }
  ~Traffic() { Stop(); }

  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  uint64_t ok() const { return ok_.load(); }
  uint64_t wrong_bytes() const { return wrong_bytes_.load(); }
  // How many operations failed, by status code.
  std::map<StatusCode, uint64_t> failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  std::string first_failure() const {
    std::lock_guard lock(mutex_);
    return first_failure_;
  }

 private:
  void Run() {
    constexpr size_t kRound = 16;
    std::vector<std::vector<std::byte>> out(kRound, std::vector<std::byte>(bytes_));
    for (size_t next = 0; !stop_.load(); next += kRound) {
      RemoteStore::Batch puts, gets;
      for (size_t j = 0; j < kRound; ++j) {
        const size_t i = (next + j) % blocks_.size();
        puts.Put(blocks_[i], payloads_[i], [this](Status s) { Count(s); });
      }
      store_->Submit(std::move(puts));
      store_->Drain();
      for (size_t j = 0; j < kRound; ++j) {
        const size_t i = (next + j) % blocks_.size();
        gets.Get(blocks_[i], out[j], [this, i, j, &out](Status s) {
          if (s.ok() && out[j] != payloads_[i]) wrong_bytes_.fetch_add(1);
          Count(s);
        });
      }
      store_->Submit(std::move(gets));
      store_->Drain();
    }
  }

  void Count(const Status& status) {
    if (status.ok()) {
      ok_.fetch_add(1);
      return;
    }
    std::lock_guard lock(mutex_);
    ++failures_[status.code()];
    if (first_failure_.empty()) first_failure_ = status.ToString();
  }

  std::vector<RemoteBlock> blocks_;
  size_t bytes_;
  std::vector<std::vector<std::byte>> payloads_;
  std::unique_ptr<RemoteStore> store_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ok_{0}, wrong_bytes_{0};
  mutable std::mutex mutex_;
  std::map<StatusCode, uint64_t> failures_;
  std::string first_failure_;
  std::thread thread_;
};

class RemoteClusterTest : public ::testing::Test {
 protected:
  virtual milliseconds NodeTimeout() const { return RedisCluster::kDefaultNodeTimeout; }

  void SetUp() override {
    auto cluster = RedisCluster::Start(dir_.path(), NodeTimeout());
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    RemoteOptions options;
    options.url = cluster_->url();
    options.op_timeout = kOpTimeout;
    auto store = RemoteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  // Puts every block of `blocks` (payload TestPayload(i)) in one batch.
  void PutAll(const std::vector<RemoteBlock>& blocks, size_t bytes) {
    std::vector<std::vector<std::byte>> payloads;
    for (size_t i = 0; i < blocks.size(); ++i) payloads.push_back(TestPayload(i, bytes));
    size_t ok = 0;
    std::string failure;
    RemoteStore::Batch batch;
    for (size_t i = 0; i < blocks.size(); ++i) {
      batch.Put(blocks[i], payloads[i], [&](Status s) {
        ok += s.ok();
        if (!s.ok() && failure.empty()) failure = s.ToString();
      });
    }
    store_->Submit(std::move(batch));
    store_->Drain();
    ASSERT_EQ(ok, blocks.size()) << failure;
  }

  Status Get(const RemoteBlock& block, size_t index, size_t bytes) {
    std::vector<std::byte> out(bytes);
    Status status = GetBlocking(*store_, block, out);
    if (status.ok() && out != TestPayload(index, bytes)) {
      return Status::Internal("wrong bytes for block " + std::to_string(index));
    }
    return status;
  }

  uint16_t MasterOf(const RemoteBlock& block) {
    const uint16_t slot = KeySlot(Name(block));
    for (uint16_t port : cluster_->Masters()) {
      auto master = cluster_->MasterOfSlot(slot, port);
      if (master.ok()) return *master;
    }
    ADD_FAILURE() << "no master for slot " << slot;
    return 0;
  }

  ScratchDir dir_;
  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<RemoteStore> store_;
};

TEST_F(RemoteClusterTest, RoundTripsAndSpreadsAPrefixOverEveryMaster) {
  constexpr uint32_t kBlocks = 300;
  const auto blocks = Chain(kNamespace, kBlocks);
  PutAll(blocks, kBlockBytes);
  const std::vector<uint16_t> masters = cluster_->Masters();
  ASSERT_EQ(masters.size(), 3u);
  for (uint16_t port : masters) {
    auto keys = RedisCli(port, {"DBSIZE"});
    ASSERT_TRUE(keys.ok());
    EXPECT_GT(std::stoi(*keys), 50) << "master " << port << " holds few of the prefix's blocks";
  }
  for (uint32_t i = 0; i < 5; ++i) {
    auto slot = RedisCli(masters[0], {"CLUSTER", "KEYSLOT", Name(blocks[i])});
    ASSERT_TRUE(slot.ok());
    EXPECT_EQ(std::stoi(*slot), KeySlot(Name(blocks[i])));
  }
  std::vector<std::vector<std::byte>> out(kBlocks, std::vector<std::byte>(kBlockBytes));
  size_t ok = 0;
  RemoteStore::Batch gets;
  for (uint32_t i = 0; i < kBlocks; ++i)
    gets.Get(blocks[i], out[i], [&](Status s) { ok += s.ok(); });
  store_->Submit(std::move(gets));
  store_->Drain();
  ASSERT_EQ(ok, kBlocks);
  for (uint32_t i = 0; i < kBlocks; ++i) ASSERT_EQ(out[i], TestPayload(i, kBlockBytes)) << i;

  const RemoteStats stats = store_->Stats();
  EXPECT_EQ(stats.health, RemoteHealth::kUp) << stats.reason;
  ASSERT_EQ(stats.nodes.size(), 3u);
  uint32_t slots = 0;
  for (const auto& node : stats.nodes) slots += node.slots;
  EXPECT_EQ(slots, kClusterSlots);
  EXPECT_EQ(stats.moved, 0u);
  EXPECT_EQ(stats.errors, 0u);
}

// True once the replica of the master on `port` has every write the master has.
bool ReplicaCaughtUp(uint16_t port) {
  auto info = RedisCli(port, {"INFO", "replication"});
  if (!info.ok()) return false;
  const size_t at = info->find("master_repl_offset:");
  const size_t replica = info->find("slave0:");
  if (at == std::string::npos || replica == std::string::npos) return false;
  const std::string master_offset =
      info->substr(at + 19, info->find_first_of("\r\n", at) - at - 19);
  const size_t offset_at = info->find("offset=", replica);
  const std::string replica_offset =
      info->substr(offset_at + 7, info->find(',', offset_at) - offset_at - 7);
  return master_offset == replica_offset;
}

// A short cluster-node-timeout, so that the replica takes over soon.
class RemoteClusterFailoverTest : public RemoteClusterTest {
 protected:
  milliseconds NodeTimeout() const override { return milliseconds{2000}; }
};

TEST_F(RemoteClusterFailoverTest, AMasterKilledDuringTrafficIsReplacedByItsReplica) {
  constexpr uint32_t kBefore = 120;
  const auto before = Chain(kNamespace, kBefore);
  PutAll(before, kBlockBytes);
  const uint16_t victim = MasterOf(before[0]);
  ASSERT_TRUE(WaitFor([&] { return ReplicaCaughtUp(victim); }));
  auto pid = cluster_->PidOf(victim);
  ASSERT_TRUE(pid.ok());

  Traffic traffic(cluster_->url(), Chain({0x7AFF, 1}, 64), kBlockBytes);
  ASSERT_TRUE(WaitFor([&] { return traffic.ok() > 100; }));
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);

  // The block on the killed master comes back from its promoted replica.
  ASSERT_TRUE(WaitFor([&] { return Get(before[0], 0, kBlockBytes).ok(); }))
      << "no failover: " << store_->Stats().reason;
  for (uint32_t i = 0; i < kBefore; ++i) {
    EXPECT_TRUE(Get(before[i], i, kBlockBytes).ok()) << i;
  }
  // Writes and reads go on, on the new master too.
  const auto after = Chain({0xAF7E, 2}, 60);
  PutAll(after, kBlockBytes);
  for (uint32_t i = 0; i < after.size(); ++i) EXPECT_TRUE(Get(after[i], i, kBlockBytes).ok()) << i;
  const uint64_t ok_at_recovery = traffic.ok();
  EXPECT_TRUE(WaitFor([&] { return traffic.ok() > ok_at_recovery + 100; }));
  traffic.Stop();

  EXPECT_EQ(traffic.wrong_bytes(), 0u);
  for (const auto& [code, count] : traffic.failures()) {
    // While the master was unreachable: Unavailable; a write the replica had
    // not received yet when it took over: a miss. Nothing else.
    EXPECT_TRUE(code == StatusCode::kUnavailable || code == StatusCode::kNotFound)
        << count << " x " << StatusCodeName(code) << "; first: " << traffic.first_failure();
  }
  EXPECT_TRUE(WaitFor([&] { return store_->Stats().health == RemoteHealth::kUp; }))
      << store_->Stats().reason;
  EXPECT_EQ(store_->Stats().nodes.size(), 3u);
}

TEST_F(RemoteClusterTest, ASlotMigratedDuringTrafficIsFollowedThroughAskThenMoved) {
  const uint16_t slot = KeySlot(Name(ChainBlock({1, 0xA5A5}, 0)));
  // b[0..2] exist before the migration; b[3] is written during it; the rest
  // carry traffic in the migrating slot all along.
  const std::vector<RemoteBlock> b = BlocksInSlot(slot, 16);
  PutAll({b.begin(), b.begin() + 3}, kBlockBytes);
  const uint16_t source = MasterOf(b[0]);
  uint16_t target = 0;
  for (uint16_t port : cluster_->Masters()) {
    if (port != source) target = port;
  }
  ASSERT_NE(target, 0);
  auto source_id = cluster_->NodeId(source);
  auto target_id = cluster_->NodeId(target);
  ASSERT_TRUE(source_id.ok() && target_id.ok());
  const std::string slot_text = std::to_string(slot);

  Traffic traffic(cluster_->url(), {b.begin() + 4, b.end()}, kBlockBytes);
  ASSERT_TRUE(WaitFor([&] { return traffic.ok() > 50; }));

  ASSERT_TRUE(RedisCli(target, {"CLUSTER", "SETSLOT", slot_text, "IMPORTING", *source_id}).ok());
  ASSERT_TRUE(RedisCli(source, {"CLUSTER", "SETSLOT", slot_text, "MIGRATING", *target_id}).ok());
  const std::string target_port = std::to_string(target);
  ASSERT_TRUE(
      RedisCli(source, {"MIGRATE", "127.0.0.1", target_port, Name(b[0]), "0", "5000"}).ok());

  // b[0] now lives on the target: the source answers ASK, the map stays.
  const uint64_t asked_before = store_->Stats().asked;
  ASSERT_TRUE(Get(b[0], 0, kBlockBytes).ok());
  EXPECT_GT(store_->Stats().asked, asked_before);
  ASSERT_TRUE(Get(b[1], 1, kBlockBytes).ok());  // still on the source
  // A new key of a migrating slot is written where the slot is going.
  const auto payload = TestPayload(3, kBlockBytes);
  ASSERT_TRUE(PutBlocking(*store_, b[3], payload).ok());
  EXPECT_GT(store_->Stats().asked, asked_before + 1);
  EXPECT_EQ(store_->Stats().moved, 0u);

  // Move the rest of the slot's keys, traffic's included, then hand it over.
  auto migrate_rest = [&] {
    auto keys = RedisCli(source, {"CLUSTER", "GETKEYSINSLOT", slot_text, "1000"});
    if (!keys.ok()) return false;
    if (keys->empty()) return true;
    std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", target_port, "",
                                        "0",       "5000",      "REPLACE",   "KEYS"};
    std::istringstream names(*keys);
    for (std::string name; names >> name;) migrate.push_back(name);
    EXPECT_TRUE(RedisCli(source, migrate).ok());
    return false;  // look again: traffic may have written meanwhile
  };
  ASSERT_TRUE(WaitFor(migrate_rest));
  // The target first, then the source, then the others (the order the Redis
  // Cluster specification gives, so no two nodes send a client back and forth).
  std::vector<uint16_t> order = {target, source};
  for (uint16_t port : cluster_->Masters()) {
    if (port != target && port != source) order.push_back(port);
  }
  for (uint16_t port : order) {
    ASSERT_TRUE(RedisCli(port, {"CLUSTER", "SETSLOT", slot_text, "NODE", *target_id}).ok());
  }

  // The map still names the source: one MOVED, and the map follows it.
  const uint64_t moved_before = store_->Stats().moved;
  ASSERT_TRUE(Get(b[1], 1, kBlockBytes).ok());
  EXPECT_GT(store_->Stats().moved, moved_before);
  const uint64_t moved_after = store_->Stats().moved;
  ASSERT_TRUE(Get(b[2], 2, kBlockBytes).ok());
  ASSERT_TRUE(Get(b[3], 3, kBlockBytes).ok());
  EXPECT_EQ(store_->Stats().moved, moved_after);

  const uint64_t ok_after = traffic.ok();
  EXPECT_TRUE(WaitFor([&] { return traffic.ok() > ok_after + 50; }));
  traffic.Stop();
  EXPECT_EQ(traffic.wrong_bytes(), 0u);
  EXPECT_TRUE(traffic.failures().empty()) << traffic.first_failure();
}

TEST_F(RemoteClusterTest, AStoppedClusterShowsDownAndIsUsedAgainAfterItsRestart) {
  const auto blocks = Chain(kNamespace, 20);
  PutAll(blocks, kBlockBytes);
  ASSERT_TRUE(cluster_->Stop().ok());
  EXPECT_TRUE(WaitFor([&] { return store_->Stats().health == RemoteHealth::kDown; }));
  const Status down = Get(blocks[0], 0, kBlockBytes);
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  EXPECT_FALSE(store_->Stats().reason.empty());

  ASSERT_TRUE(cluster_->Restart().ok());
  const auto payload = TestPayload(0, kBlockBytes);
  EXPECT_TRUE(WaitFor([&] { return PutBlocking(*store_, blocks[0], payload).ok(); }))
      << store_->Stats().reason;
  EXPECT_TRUE(Get(blocks[0], 0, kBlockBytes).ok());
  EXPECT_TRUE(WaitFor([&] { return store_->Stats().health == RemoteHealth::kUp; }))
      << store_->Stats().reason;
  EXPECT_GT(store_->Stats().reconnects, 0u);
}

TEST_F(RemoteClusterTest, MaxmemoryWithAllKeysLruGivesMissesNeverErrorsOrWrongBytes) {
  for (uint16_t port : cluster_->Masters()) {
    ASSERT_TRUE(RedisCli(port, {"CONFIG", "SET", "maxmemory", "6mb"}).ok());
    ASSERT_TRUE(RedisCli(port, {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}).ok());
  }
  constexpr size_t kBlocks = 120;  // 10 MiB per master
  constexpr size_t kBytes = 256 << 10;
  const auto blocks = Chain(kNamespace, kBlocks);
  PutAll(blocks, kBytes);
  size_t hits = 0, misses = 0;
  for (size_t i = 0; i < kBlocks; ++i) {
    const Status status = Get(blocks[i], i, kBytes);
    if (status.ok()) {
      ++hits;
    } else {
      ++misses;
      EXPECT_TRUE(status.IsNotFound()) << i << ": " << status.ToString();
    }
  }
  EXPECT_GT(hits, 0u);
  EXPECT_GT(misses, 0u);
  const RemoteStats stats = store_->Stats();
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_EQ(stats.corrupt_dropped, 0u);
}

TEST_F(RemoteClusterTest, AValueTamperedWithThroughRedisCliIsDroppedNotServed) {
  const auto blocks = Chain(kNamespace, 2);
  PutAll(blocks, kBlockBytes);
  const uint16_t port = cluster_->ports()[0];
  ASSERT_TRUE(RedisCli(port, {"SET", Name(blocks[1]), "tampered"}, /*cluster=*/true).ok());
  EXPECT_TRUE(Get(blocks[1], 1, kBlockBytes).IsCorruption());
  EXPECT_TRUE(Get(blocks[0], 0, kBlockBytes).ok());
  EXPECT_EQ(store_->Stats().corrupt_dropped, 1u);
  EXPECT_TRUE(WaitFor([&] {
    auto exists = RedisCli(port, {"EXISTS", Name(blocks[1])}, /*cluster=*/true);
    return exists.ok() && *exists == "0";
  }));
  EXPECT_TRUE(Get(blocks[1], 1, kBlockBytes).IsNotFound());
}

}  // namespace
}  // namespace tierkv::remote
