// RemoteStore against one real redis-server started by each test: round trips,
// values tampered with by redis-cli, a server refusing writes (OOM) or
// evicting (allkeys-lru), stopped (SIGSTOP), restarted, unreachable, or
// asking for a password. Waits are on conditions with generous deadlines.
#include "tiers/remote/remote_store.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include "tiers/remote/testing/redis_process.h"
#include "tiers/remote/testing/test_blocks.h"

namespace tierkv::remote {
namespace {

using std::chrono::milliseconds;
using testing::Chain;
using testing::RedisCli;
using testing::RedisServer;
using testing::ScratchDir;
using testing::TestPayload;
using testing::WaitFor;

constexpr Key128 kNamespace{0xABCD, 0x1234};
constexpr size_t kBlockBytes = 64 << 10;

class RemoteStoreTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> args = {}) {
    auto server = RedisServer::Start(dir_.path(), std::move(args));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  void Open(RemoteOptions options) {
    auto store = RemoteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  void Open() {
    RemoteOptions options;
    options.url = server_->url();
    Open(options);
  }

  std::string Name(const RemoteBlock& block) const {
    return RemoteKeyName(block.namespace_id, block.key);
  }

  bool HealthIs(RemoteHealth health) const { return store_->Stats().health == health; }

  ScratchDir dir_;
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RemoteStore> store_;
};

TEST_F(RemoteStoreTest, RoundTripsBlocksByteExact) {
  StartServer();
  Open();
  const auto blocks = Chain(kNamespace, 8);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto payload = TestPayload(i, kBlockBytes);
    ASSERT_TRUE(PutBlocking(*store_, blocks[i], payload).ok());
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    std::vector<std::byte> out(kBlockBytes);
    ASSERT_TRUE(GetBlocking(*store_, blocks[i], out).ok());
    EXPECT_EQ(out, TestPayload(i, kBlockBytes)) << "block " << i;
    EXPECT_TRUE(ProbeBlocking(*store_, blocks[i], kBlockBytes).ok());
  }
  ASSERT_TRUE(DeleteBlocking(*store_, kNamespace, blocks[3].key).ok());
  std::vector<std::byte> out(kBlockBytes);
  EXPECT_TRUE(GetBlocking(*store_, blocks[3], out).IsNotFound());
  EXPECT_TRUE(ProbeBlocking(*store_, blocks[3], kBlockBytes).IsNotFound());
  EXPECT_TRUE(DeleteBlocking(*store_, kNamespace, blocks[3].key).IsNotFound());

  const RemoteStats stats = store_->Stats();
  EXPECT_EQ(stats.blocks_written, 8u);
  EXPECT_EQ(stats.blocks_read, 8u);
  EXPECT_EQ(stats.bytes_read, 8u * kBlockBytes);
  EXPECT_EQ(stats.hits, 16u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_EQ(stats.queue_depth, 0u);
  EXPECT_EQ(stats.health, RemoteHealth::kUp);
  ASSERT_EQ(stats.nodes.size(), 1u);
  EXPECT_EQ(stats.nodes[0].slots, 16384u);
}

TEST_F(RemoteStoreTest, OneBatchPipelinesManyOperations) {
  StartServer();
  RemoteOptions options;
  options.url = server_->url();
  options.max_in_flight_per_node = 16;  // the window refills many times
  Open(options);
  constexpr uint32_t kBlocks = 200;
  const auto blocks = Chain(kNamespace, kBlocks);
  std::vector<std::vector<std::byte>> payloads, out(kBlocks, std::vector<std::byte>(4096));
  for (uint32_t i = 0; i < kBlocks; ++i) payloads.push_back(TestPayload(i, 4096));
  int ok = 0;
  RemoteStore::Batch puts;
  for (uint32_t i = 0; i < kBlocks; ++i) {
    puts.Put(blocks[i], payloads[i], [&](Status s) { ok += s.ok(); });
  }
  store_->Submit(std::move(puts));
  store_->Drain();
  ASSERT_EQ(ok, static_cast<int>(kBlocks));
  RemoteStore::Batch gets;
  for (uint32_t i = 0; i < kBlocks; ++i) {
    gets.Get(blocks[i], out[i], [&](Status s) { ok += s.ok(); });
  }
  store_->Submit(std::move(gets));
  store_->Drain();
  EXPECT_EQ(ok, static_cast<int>(2 * kBlocks));
  EXPECT_EQ(out, payloads);
}

// How the daemon will drive it: an io_context waits on the store's eventfd
// and reaps on wake-up; the next request is submitted from a callback.
TEST_F(RemoteStoreTest, AnEventLoopDrivesItWithoutBlocking) {
  StartServer();
  Open();
  using boost::asio::posix::stream_descriptor;
  boost::asio::io_context io;
  stream_descriptor events(io, ::dup(store_->event_fd()));
  const auto blocks = Chain(kNamespace, 4);
  std::vector<std::vector<std::byte>> out(4, std::vector<std::byte>(kBlockBytes));
  std::vector<std::vector<std::byte>> payloads;
  for (int i = 0; i < 4; ++i) payloads.push_back(TestPayload(i, kBlockBytes));
  int read = 0;
  std::function<void()> arm = [&] {
    events.async_wait(stream_descriptor::wait_read, [&](boost::system::error_code ec) {
      if (ec) return;
      store_->ReapCompletions();
      if (read < 4) arm();
    });
  };
  boost::asio::post(io, [&] {
    RemoteStore::Batch batch;
    for (int i = 0; i < 4; ++i) {
      batch.Put(blocks[i], payloads[i], [&, i](Status s) {
        ASSERT_TRUE(s.ok()) << s.ToString();
        RemoteStore::Batch next;
        next.Get(blocks[i], out[i], [&](Status r) {
          EXPECT_TRUE(r.ok()) << r.ToString();
          ++read;
        });
        store_->Submit(std::move(next));
      });
    }
    store_->Submit(std::move(batch));
    arm();
  });
  io.run();
  EXPECT_EQ(read, 4);
  EXPECT_EQ(out, payloads);
}

TEST_F(RemoteStoreTest, TamperedValuesAreDetectedDeletedAndCounted) {
  StartServer();
  Open();
  const auto blocks = Chain(kNamespace, 3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(PutBlocking(*store_, blocks[i], TestPayload(i, kBlockBytes)).ok());
  }
  const uint16_t port = server_->port();
  // Another block's sound value copied over; replaced outright; one payload byte changed.
  ASSERT_TRUE(RedisCli(port, {"COPY", Name(blocks[1]), Name(blocks[2]), "REPLACE"}).ok());
  ASSERT_TRUE(RedisCli(port, {"SET", Name(blocks[0]), "not a tierkv value"}).ok());
  const size_t payload_at = RemotePrefixBytes(testing::kTestBlockTokens);
  ASSERT_TRUE(
      RedisCli(port, {"SETRANGE", Name(blocks[1]), std::to_string(payload_at + 100), "X"}).ok());

  std::vector<std::byte> out(kBlockBytes, std::byte{0x5A});
  const std::vector<std::byte> untouched = out;
  for (int i = 0; i < 3; ++i) {
    const Status status = GetBlocking(*store_, blocks[i], out);
    EXPECT_TRUE(status.IsCorruption()) << i << ": " << status.ToString();
  }
  EXPECT_EQ(out, untouched);  // a failed Get leaves dst alone
  EXPECT_EQ(store_->Stats().corrupt_dropped, 3u);
  EXPECT_TRUE(WaitFor([&] {
    auto keys = RedisCli(port, {"DBSIZE"});
    return keys.ok() && *keys == "0";
  })) << "corrupt values were not deleted";
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(GetBlocking(*store_, blocks[i], out).IsNotFound());

  ASSERT_TRUE(RedisCli(port, {"RPUSH", Name(blocks[0]), "a list"}).ok());  // WRONGTYPE
  EXPECT_TRUE(ProbeBlocking(*store_, blocks[0], kBlockBytes).IsCorruption());
  EXPECT_EQ(store_->Stats().corrupt_dropped, 4u);
  EXPECT_EQ(store_->Stats().errors, 0u);
}

TEST_F(RemoteStoreTest, AskingWithTokensThatDoNotHashToTheKeyIsAMissAndKeepsTheBlock) {
  StartServer();
  Open();
  const auto blocks = Chain(kNamespace, 1);
  ASSERT_TRUE(PutBlocking(*store_, blocks[0], TestPayload(0, kBlockBytes)).ok());
  RemoteBlock lying = blocks[0];
  lying.tokens[5] += 1;
  std::vector<std::byte> out(kBlockBytes);
  EXPECT_TRUE(GetBlocking(*store_, lying, out).IsNotFound());
  EXPECT_TRUE(ProbeBlocking(*store_, lying, kBlockBytes).IsNotFound());
  EXPECT_TRUE(GetBlocking(*store_, blocks[0], out).ok());
  EXPECT_EQ(store_->Stats().corrupt_dropped, 0u);
}

TEST_F(RemoteStoreTest, AServerOutOfMemoryRefusesWritesClearlyAndKeepsServingReads) {
  StartServer({"--maxmemory", "4mb", "--maxmemory-policy", "noeviction"});
  Open();
  const auto blocks = Chain(kNamespace, 200);
  size_t stored = 0;
  Status refused;
  for (; stored < blocks.size(); ++stored) {
    refused = PutBlocking(*store_, blocks[stored], TestPayload(stored, kBlockBytes));
    if (!refused.ok()) break;
  }
  ASSERT_LT(stored, blocks.size()) << "maxmemory never refused a write";
  ASSERT_GT(stored, 0u);
  EXPECT_TRUE(refused.IsResourceExhausted()) << refused.ToString();
  EXPECT_NE(refused.message().find("OOM"), std::string_view::npos) << refused.ToString();
  EXPECT_TRUE(WaitFor([&] { return HealthIs(RemoteHealth::kDegraded); }));
  EXPECT_NE(store_->Stats().nodes[0].reason.find("OOM"), std::string::npos);
  std::vector<std::byte> out(kBlockBytes);
  for (size_t i = 0; i < stored; ++i) {
    ASSERT_TRUE(GetBlocking(*store_, blocks[i], out).ok()) << i;
    EXPECT_EQ(out, TestPayload(i, kBlockBytes));
  }
}

TEST_F(RemoteStoreTest, AllKeysLruEvictionGivesMissesNeverErrorsOrWrongBytes) {
  StartServer({"--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru"});
  Open();
  constexpr size_t kBlocks = 96;  // 6 MiB per 24 blocks: about three times maxmemory
  constexpr size_t kBytes = 256 << 10;
  const auto blocks = Chain(kNamespace, kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) {
    ASSERT_TRUE(PutBlocking(*store_, blocks[i], TestPayload(i, kBytes)).ok()) << i;
  }
  size_t hits = 0, misses = 0;
  std::vector<std::byte> out(kBytes);
  for (size_t i = 0; i < kBlocks; ++i) {
    const Status status = GetBlocking(*store_, blocks[i], out);
    if (status.ok()) {
      ++hits;
      EXPECT_EQ(out, TestPayload(i, kBytes)) << i;
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
  EXPECT_EQ(stats.misses, misses);
}

TEST_F(RemoteStoreTest, UnreachableServerFailsFastAndShowsDown) {
  StartServer();
  const std::string url = server_->url();
  server_.reset();  // nothing listens on that port now
  RemoteOptions options;
  options.url = url;
  Open(options);
  const auto blocks = Chain(kNamespace, 1);
  std::vector<std::byte> out(kBlockBytes);
  const Status status = GetBlocking(*store_, blocks[0], out);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  ASSERT_TRUE(WaitFor([&] { return !store_->Stats().nodes.empty(); }));
  const RemoteStats stats = store_->Stats();
  EXPECT_EQ(stats.health, RemoteHealth::kDown);
  EXPECT_NE(stats.nodes[0].reason.find("refused"), std::string::npos) << stats.nodes[0].reason;
}

TEST_F(RemoteStoreTest, AStoppedServerNeverBlocksTheCallerAndItsRepliesStillCount) {
  StartServer();
  RemoteOptions options;
  options.url = server_->url();
  options.io_timeout = milliseconds(120'000);
  options.op_timeout = milliseconds(120'000);
  Open(options);
  const auto blocks = Chain(kNamespace, 10);
  ASSERT_TRUE(PutBlocking(*store_, blocks[0], TestPayload(0, kBlockBytes)).ok());
  server_->Pause();
  std::vector<std::vector<std::byte>> payloads;
  for (int i = 0; i < 10; ++i) payloads.push_back(TestPayload(i, kBlockBytes));
  int done = 0;
  RemoteStore::Batch batch;
  for (int i = 1; i < 10; ++i) batch.Put(blocks[i], payloads[i], [&](Status s) { done += s.ok(); });
  store_->Submit(std::move(batch));
  // Submit returned while the server cannot answer: nothing is complete.
  EXPECT_EQ(store_->ReapCompletions(), 0u);
  EXPECT_EQ(store_->Stats().queue_depth, 9u);
  server_->Resume();
  store_->Drain();
  EXPECT_EQ(done, 9);
}

TEST_F(RemoteStoreTest, AStoppedServerTimesOutShowsDownAndIsUsedAgainAfter) {
  StartServer();
  RemoteOptions options;
  options.url = server_->url();
  options.io_timeout = milliseconds(300);
  Open(options);
  const auto blocks = Chain(kNamespace, 2);
  ASSERT_TRUE(PutBlocking(*store_, blocks[0], TestPayload(0, kBlockBytes)).ok());
  server_->Pause();
  std::vector<std::byte> out(kBlockBytes);
  const Status stalled = GetBlocking(*store_, blocks[0], out);
  EXPECT_EQ(stalled.code(), StatusCode::kUnavailable) << stalled.ToString();
  EXPECT_TRUE(WaitFor([&] { return HealthIs(RemoteHealth::kDown); }));
  server_->Resume();
  EXPECT_TRUE(WaitFor([&] { return HealthIs(RemoteHealth::kUp); }));
  ASSERT_TRUE(GetBlocking(*store_, blocks[0], out).ok());
  EXPECT_EQ(out, TestPayload(0, kBlockBytes));
  EXPECT_GE(store_->Stats().reconnects, 1u);
}

TEST_F(RemoteStoreTest, ARestartedServerIsReconnectedOnItsOwn) {
  StartServer();
  Open();
  const auto blocks = Chain(kNamespace, 1);
  const auto payload = TestPayload(0, kBlockBytes);
  ASSERT_TRUE(PutBlocking(*store_, blocks[0], payload).ok());
  ASSERT_TRUE(server_->Restart().ok());  // empty again: nothing is persisted
  EXPECT_TRUE(WaitFor([&] { return PutBlocking(*store_, blocks[0], payload).ok(); }));
  std::vector<std::byte> out(kBlockBytes);
  ASSERT_TRUE(GetBlocking(*store_, blocks[0], out).ok());
  EXPECT_EQ(out, payload);
}

TEST_F(RemoteStoreTest, PasswordsAreSentAndRefusalsAreClear) {
  StartServer({"--requirepass", "s3cret"});
  const auto blocks = Chain(kNamespace, 1);
  const auto payload = TestPayload(0, kBlockBytes);
  const std::string address = "127.0.0.1:" + std::to_string(server_->port());

  RemoteOptions none;
  none.url = "redis://" + address;
  Open(none);
  Status status = ProbeBlocking(*store_, blocks[0], kBlockBytes);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
  EXPECT_NE(status.message().find("NOAUTH"), std::string_view::npos);
  status = PutBlocking(*store_, blocks[0], payload);  // Redis 7: "unauthenticated bulk length"
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();

  RemoteOptions wrong;
  wrong.url = "redis://:nope@" + address;
  Open(wrong);
  status = PutBlocking(*store_, blocks[0], payload);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("WRONGPASS"), std::string_view::npos) << status.ToString();
  EXPECT_EQ(status.message().find("nope"), std::string_view::npos);

  RemoteOptions right;
  right.url = "redis://:s3cret@" + address;
  Open(right);
  ASSERT_TRUE(PutBlocking(*store_, blocks[0], payload).ok());
  RemoteOptions separate;  // the password from its own setting, not the URL
  separate.url = none.url;
  separate.password = "s3cret";
  Open(separate);
  std::vector<std::byte> out(kBlockBytes);
  ASSERT_TRUE(GetBlocking(*store_, blocks[0], out).ok());
  EXPECT_EQ(out, payload);
}

TEST_F(RemoteStoreTest, AClusterUrlForAPlainServerSaysSo) {
  StartServer();
  RemoteOptions options;
  options.url = "redis-cluster://127.0.0.1:" + std::to_string(server_->port());
  Open(options);
  std::vector<std::byte> out(kBlockBytes);
  const Status status = GetBlocking(*store_, Chain(kNamespace, 1)[0], out);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("cluster support disabled"), std::string_view::npos)
      << status.ToString();
}

TEST_F(RemoteStoreTest, BadRequestsCompleteWithInvalidArgument) {
  StartServer();
  Open();
  RemoteBlock block = Chain(kNamespace, 1)[0];
  EXPECT_TRUE(PutBlocking(*store_, block, {}).IsInvalidArgument());
  std::vector<std::byte> none;
  EXPECT_TRUE(GetBlocking(*store_, block, none).IsInvalidArgument());
  RemoteBlock no_tokens = block;
  no_tokens.tokens.clear();
  EXPECT_TRUE(PutBlocking(*store_, no_tokens, TestPayload(0, 16)).IsInvalidArgument());
  block.tokens.resize(kMaxRemoteBlockTokens + 1);
  const auto payload = TestPayload(0, 16);
  EXPECT_TRUE(PutBlocking(*store_, block, payload).IsInvalidArgument());
  RemoteOptions bad_url;
  bad_url.url = "memcached://h:1";
  EXPECT_TRUE(RemoteStore::Open(bad_url).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tierkv::remote
