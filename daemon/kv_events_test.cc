// The KV event stream without a daemon: how store notices become batches, the
// msgpack layout of a batch, and a publisher seen from real ZeroMQ peers (a
// SUB socket and a DEALER asking for a replay).
#include <gtest/gtest.h>
#include <zmq.h>

#include <msgpack.hpp>
#include <thread>

#include "daemon/block_index.h"
#include "daemon/kv_event_batcher.h"
#include "daemon/kv_event_publisher.h"

namespace tierkv {
namespace {

constexpr uint32_t kBlockTokens = 4;
constexpr int kReceiveMillis = 5000;

// A chain of `n` blocks of one namespace, as the index holds them.
std::vector<BlockEntry*> Chain(BlockIndex& index, size_t n, TokenId first) {
  const Key128 ns_id{7, 9};
  std::vector<TokenId> tokens;
  for (size_t i = 0; i < n * kBlockTokens; ++i) tokens.push_back(first + static_cast<TokenId>(i));
  const auto keys = ChainBlockKeys(ns_id, tokens, kBlockTokens);
  std::vector<BlockEntry*> out;
  Key128 parent = ns_id;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(index.Insert(keys[i], parent, ns_id,
                               std::span(tokens).subspan(i * kBlockTokens, kBlockTokens), 4096));
    parent = keys[i];
  }
  return out;
}

struct Recorder {
  std::vector<std::function<void()>> scheduled;
  std::vector<std::vector<KvEvent>> batches;
  KvEventBatcher batcher{[this](std::function<void()> f) { scheduled.push_back(std::move(f)); },
                         [this](std::vector<KvEvent> b) { batches.push_back(std::move(b)); }};
  void RunScheduled() {
    auto run = std::exchange(scheduled, {});
    for (auto& f : run) f();
  }
};

TEST(KvEventBatcherTest, AChainStoredInOrderIsOneEventAndMovesAreStoreThenRemove) {
  BlockIndex index;
  const auto chain = Chain(index, 3, 100);
  Recorder r;
  for (BlockEntry* e : chain) r.batcher.OnCopyAdded(*e, Medium::kCpu);
  // Demotion of the tail: a store on DISK, then the host copy goes.
  r.batcher.OnCopyAdded(*chain[2], Medium::kDisk);
  r.batcher.OnCopyRemoved(*chain[2], Medium::kCpu);
  r.batcher.OnCopyRemoved(*chain[1], Medium::kCpu);
  EXPECT_TRUE(r.batches.empty());  // handed off at the end of the loop turn
  ASSERT_EQ(r.scheduled.size(), 1u);
  r.RunScheduled();
  ASSERT_EQ(r.batches.size(), 1u);
  const auto& b = r.batches[0];
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].kind, KvEvent::Kind::kStored);
  EXPECT_EQ(b[0].medium, Medium::kCpu);
  EXPECT_EQ(b[0].hashes, (std::vector<Key128>{chain[0]->key, chain[1]->key, chain[2]->key}));
  EXPECT_EQ(b[0].parent, (Key128{7, 9}));
  EXPECT_EQ(b[0].tokens.size(), 3 * kBlockTokens);
  EXPECT_EQ(b[0].tokens.front(), 100u);
  EXPECT_EQ(b[0].block_tokens, kBlockTokens);
  EXPECT_EQ(b[1].medium, Medium::kDisk);
  EXPECT_EQ(b[1].parent, chain[1]->key);
  EXPECT_EQ(b[2].kind, KvEvent::Kind::kRemoved);
  EXPECT_EQ(b[2].hashes, (std::vector<Key128>{chain[2]->key, chain[1]->key}));
}

TEST(KvEventBatcherTest, UnrelatedBlocksStartNewEventsAndFullBatchesGoAtOnce) {
  BlockIndex index;
  const auto a = Chain(index, 1, 1);
  const auto b = Chain(index, 1, 1000);
  Recorder r;
  r.batcher.OnCopyAdded(*a[0], Medium::kCpu);
  r.batcher.OnCopyAdded(*b[0], Medium::kCpu);  // not a's child
  r.batcher.OnAllCleared();
  r.RunScheduled();
  ASSERT_EQ(r.batches.size(), 1u);
  ASSERT_EQ(r.batches[0].size(), 3u);
  EXPECT_EQ(r.batches[0][2].kind, KvEvent::Kind::kAllCleared);

  const auto many = Chain(index, KvEventBatcher::kMaxBatchBlocks + 1, 5000);
  for (BlockEntry* e : many) r.batcher.OnCopyRemoved(*e, Medium::kDisk);
  ASSERT_EQ(r.batches.size(), 2u);  // the full one, before the loop turn ends
  EXPECT_EQ(r.batches[1][0].hashes.size(), KvEventBatcher::kMaxBatchBlocks);
  r.RunScheduled();
  ASSERT_EQ(r.batches.size(), 3u);
  EXPECT_EQ(r.batches[2][0].hashes.size(), 1u);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

TEST(KvEventEncodingTest, BatchesHaveVllmsArrayLayout) {
  KvEvent stored;
  stored.kind = KvEvent::Kind::kStored;
  stored.medium = Medium::kGpu;
  stored.hashes = {Key128{0x0102030405060708, 0x1112131415161718}};
  stored.parent = Key128{5, 6};
  stored.tokens = {1, 2, 3, 4};
  stored.block_tokens = 4;
  KvEvent removed;
  removed.kind = KvEvent::Kind::kRemoved;
  removed.medium = Medium::kDisk;
  removed.hashes = stored.hashes;
  KvEvent cleared;
  cleared.kind = KvEvent::Kind::kAllCleared;
  const std::vector<KvEvent> events = {stored, removed, cleared};
  const std::string bytes = EncodeKvEventBatch(1700000000.5, events);
  msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size());
  const auto batch = oh.get().as<std::vector<msgpack::object>>();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_DOUBLE_EQ(batch[0].as<double>(), 1700000000.5);
  const auto list = batch[1].as<std::vector<msgpack::object>>();
  ASSERT_EQ(list.size(), 3u);
  const auto s = list[0].as<std::vector<msgpack::object>>();
  ASSERT_EQ(s.size(), 7u);
  EXPECT_EQ(s[0].as<std::string>(), "BlockStored");
  const auto hashes = s[1].as<std::vector<msgpack::object>>();
  ASSERT_EQ(hashes.size(), 1u);
  ASSERT_EQ(hashes[0].type, msgpack::type::BIN);
  const std::string_view hash(hashes[0].via.bin.ptr, hashes[0].via.bin.size);
  EXPECT_EQ(Hex(hash), ToHex(stored.hashes[0]));  // what `tierkv stats` prints
  EXPECT_EQ(Hex(std::string_view(s[2].via.bin.ptr, s[2].via.bin.size)), ToHex(Key128{5, 6}));
  EXPECT_EQ(s[3].as<std::vector<uint32_t>>(), (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(s[4].as<uint32_t>(), 4u);
  EXPECT_TRUE(s[5].is_nil());
  EXPECT_EQ(s[6].as<std::string>(), "GPU");
  const auto r = list[1].as<std::vector<msgpack::object>>();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].as<std::string>(), "BlockRemoved");
  EXPECT_EQ(r[2].as<std::string>(), "DISK");
  const auto c = list[2].as<std::vector<msgpack::object>>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].as<std::string>(), "AllBlocksCleared");
}

// The frames of one multipart message, or none after kReceiveMillis.
std::vector<std::string> Receive(void* socket) {
  zmq_pollitem_t item{socket, 0, ZMQ_POLLIN, 0};
  if (zmq_poll(&item, 1, kReceiveMillis) != 1) return {};
  std::vector<std::string> frames;
  int more = 1;
  while (more) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    zmq_msg_recv(&msg, socket, 0);
    frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    more = zmq_msg_more(&msg);
    zmq_msg_close(&msg);
  }
  return frames;
}

int64_t Seq(const std::string& frame) {
  uint64_t v = 0;
  for (unsigned char c : frame) v = v << 8 | c;
  return static_cast<int64_t>(v);
}

std::vector<KvEvent> OneCleared() {
  KvEvent e;
  e.kind = KvEvent::Kind::kAllCleared;
  return {e};
}

TEST(KvEventPublisherTest, SubscribersSeeNumberedBatchesAndReplayFillsAGap) {
  auto publisher = KvEventPublisher::Start(
      {"tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "kv@test-node@test-model"});
  ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
  void* context = zmq_ctx_new();
  void* sub = zmq_socket(context, ZMQ_SUB);
  ASSERT_EQ(zmq_connect(sub, (*publisher)->endpoint().c_str()), 0);
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "kv@", 3);
  // PUB drops what it sends before the subscription arrives: publish until
  // the subscriber hears one, then count from there.
  std::vector<std::string> first;
  for (int i = 0; i < 200 && first.empty(); ++i) {
    (*publisher)->Publish(OneCleared());
    zmq_pollitem_t item{sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 20) == 1) first = Receive(sub);
  }
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0], "kv@test-node@test-model");
  // Drain what else the probing sent, then three more in order.
  while (true) {
    zmq_pollitem_t item{sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 200) != 1) break;
    first = Receive(sub);
  }
  const int64_t last = Seq(first[1]);
  for (int i = 0; i < 3; ++i) (*publisher)->Publish(OneCleared());
  for (int i = 1; i <= 3; ++i) {
    const auto frames = Receive(sub);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(Seq(frames[1]), last + i);
  }
  // A subscriber that missed everything from `last` asks for it again.
  void* dealer = zmq_socket(context, ZMQ_DEALER);
  ASSERT_EQ(zmq_connect(dealer, (*publisher)->replay_endpoint().c_str()), 0);
  char from[8];
  for (int i = 0; i < 8; ++i) from[i] = static_cast<char>(static_cast<uint64_t>(last) >> (56 - 8 * i));
  zmq_send(dealer, "", 0, ZMQ_SNDMORE);
  zmq_send(dealer, from, 8, 0);
  std::vector<int64_t> replayed;
  for (;;) {
    const auto frames = Receive(dealer);
    ASSERT_EQ(frames.size(), 3u);  // "", seq, payload
    if (Seq(frames[1]) == -1) {
      EXPECT_TRUE(frames[2].empty());
      break;
    }
    replayed.push_back(Seq(frames[1]));
    EXPECT_FALSE(frames[2].empty());
  }
  EXPECT_EQ(replayed, (std::vector<int64_t>{last, last + 1, last + 2, last + 3}));
  EXPECT_EQ((*publisher)->dropped_batches(), 0u);
  zmq_close(dealer);
  zmq_close(sub);
  zmq_ctx_term(context);
}

TEST(KvEventPublisherTest, ABusyEndpointIsNamed) {
  auto first = KvEventPublisher::Start({"tcp://127.0.0.1:*", "", "t"});
  ASSERT_TRUE(first.ok());
  auto second = KvEventPublisher::Start({(*first)->endpoint(), "", "t"});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("bind " + (*first)->endpoint()), std::string::npos)
      << second.status().ToString();
}

}  // namespace
}  // namespace tierkv
