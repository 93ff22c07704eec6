// The event loop never waits on the disk: the daemon's own parts (host tier,
// block store, a real NvmeStore whose writes a fault-injecting engine holds
// back, request handler, server, NVMe pump) on one io_context thread, and real
// clients on its Unix socket. A put that needs a slow NVMe write to make room
// waits on its connection only, while another connection is answered.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon/block_store.h"
#include "daemon/event_fd_pump.h"
#include "daemon/namespace_registry.h"
#include "daemon/request_handler.h"
#include "daemon/server.h"
#include "tierkv/client.h"
#include "tiers/host/host_tier.h"
#include "tiers/nvme/testing/fault_injection_io_engine.h"
#include "tiers/nvme/testing/temp_dir.h"
#include "tiers/nvme/uring_engine.h"

namespace tierkv {
namespace {

using nvme::testing::FaultInjectionIoEngine;

constexpr uint64_t kBlockBytes = 64 * 1024;
constexpr uint32_t kBlockTokens = 16;
constexpr uint64_t kSlabBytes = 1 << 20;
constexpr uint64_t kHostBytes = 2 * kSlabBytes;  // 32 blocks
constexpr size_t kHostBlocks = kHostBytes / kBlockBytes;
// Long enough for a loaded CI machine, short enough that a loop blocked on
// the disk fails the test instead of hanging it.
constexpr int kClientTimeoutMs = 5000;
constexpr auto kWaitLimit = std::chrono::seconds(10);

class InProcessDaemon {
 public:
  InProcessDaemon()
      : host_(std::move(HostTier::Create(kHostBytes, kSlabBytes)).value()),
        store_(host_.get(), CleaningOptions{.clean_above = 1.0}),
        registry_("secret", std::map<std::string, std::string>{}, kSlabBytes),
        handler_(&store_, &registry_, {"", "test", "no GPU in this test"}),
        server_(io_, &store_, &handler_) {}

  ~InProcessDaemon() {
    if (loop_.joinable()) Stop();
  }

  void Start() {
    nvme::NvmeStoreOptions options;
    options.capacity_bytes = 16 << 20;
    options.slab_bytes = kSlabBytes;
    options.max_block_bytes = kBlockBytes;
    nvme::UringEngineOptions engine_options;
    engine_options.queue_depth = options.queue_depth;
    engine_options.max_io_bytes = nvme::RoundUpToIo(options.max_block_bytes);
    engine_options.durability = options.durability;
    auto engine = std::make_unique<FaultInjectionIoEngine>(
        std::move(nvme::UringEngine::Create(engine_options)).value());
    engine_ = engine.get();
    nvme_ =
        std::move(nvme::NvmeStore::Open(dir_.Sub("nvme"), options, {}, std::move(engine))).value();
    store_.AttachNvme(nvme_.get(), {});
    pump_ = std::make_unique<EventFdPump>(io_, store_.nvme()->event_fd(),
                                          [this] { store_.ReapNvme(); });
    ASSERT_TRUE(server_.ListenUnix(socket()).ok());
    loop_ = std::thread([this] { io_.run(); });
  }

  void Stop() {
    OnLoop([this] {
      engine_->ReleaseHeldWrites();
      server_.Stop();
      pump_->Stop();
    });
    loop_.join();
    store_.DrainNvme();
  }

  // Closes the listener and every connection; the loop goes on (on the loop thread).
  void StopServing() { server_.Stop(); }

  // Runs `f` on the event-loop thread and waits for it.
  void OnLoop(std::function<void()> f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  std::unique_ptr<Client> Connect() {
    ConnectOptions options;
    options.address = "unix:" + socket();
    options.timeout_ms = kClientTimeoutMs;
    auto client = Client::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  std::string socket() const { return dir_.Sub("sock"); }
  FaultInjectionIoEngine& engine() { return *engine_; }
  // Read on the loop thread only.
  const BlockStore& store() const { return store_; }

 private:
  nvme::testing::TempDir dir_{"tierkv-loop-"};
  std::unique_ptr<HostTier> host_;
  FaultInjectionIoEngine* engine_ = nullptr;
  std::unique_ptr<nvme::NvmeStore> nvme_;
  BlockStore store_;
  NamespaceRegistry registry_;
  RequestHandler handler_;
  boost::asio::io_context io_{1};
  Server server_;
  std::unique_ptr<EventFdPump> pump_;
  std::thread loop_;
};

struct Prompt {
  std::vector<TokenId> tokens;
  std::vector<Key128> keys;
  std::vector<std::byte> payload;
};

Prompt MakePrompt(const Namespace& ns, size_t blocks, TokenId first) {
  Prompt p;
  for (size_t i = 0; i < blocks * kBlockTokens; ++i) p.tokens.push_back(first + i);
  p.keys = ChainBlockKeys(ns.id, p.tokens, kBlockTokens);
  p.payload.resize(blocks * kBlockBytes);
  for (size_t i = 0; i < p.payload.size(); ++i) p.payload[i] = std::byte(first + i / 4096);
  return p;
}

Status Put(Client& c, const Namespace& ns, const Prompt& p) {
  return c.Put(ns, ns.id, p.keys, p.tokens, p.payload);
}

NamespaceSpec Spec() {
  NamespaceSpec spec;
  spec.model_fingerprint = "m";
  spec.kv_dtype = "f16";
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = kBlockBytes;
  return spec;
}

TEST(EventLoopTest, APutWaitingForASlowDiskWriteStallsOnlyItsOwnConnection) {
  InProcessDaemon daemon;
  ASSERT_NO_FATAL_FAILURE(daemon.Start());
  auto writer = daemon.Connect();
  auto reader = daemon.Connect();
  ASSERT_TRUE(writer && reader);
  const Namespace ns = *writer->OpenNamespace(Spec());
  const Namespace reader_ns = *reader->OpenNamespace(Spec());

  const Prompt full = MakePrompt(ns, kHostBlocks, 1);
  ASSERT_TRUE(Put(*writer, ns, full).ok());  // the host tier is full, nothing is on NVMe
  daemon.OnLoop([&] { daemon.engine().HoldWrites(); });

  // This put needs the LRU tail on NVMe before its slot exists.
  const Prompt extra = MakePrompt(ns, 1, 100000);
  auto put = std::async(std::launch::async, [&] { return Put(*writer, ns, extra); });
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (daemon.engine().held_writes() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(daemon.engine().held_writes(), 1) << "the put's reserve did not reach the disk";

  // The other connection is answered while that write is held.
  auto health = reader->GetHealth();
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_TRUE(health->ok);
  auto hit = reader->Lookup(reader_ns, full.keys, full.tokens);
  ASSERT_TRUE(hit.ok()) << hit.status().ToString();
  EXPECT_EQ(hit->matched_blocks, kHostBlocks);
  EXPECT_EQ(put.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the put completed before the write it waits for";

  daemon.OnLoop([&] { daemon.engine().ReleaseHeldWrites(); });
  ASSERT_EQ(put.wait_for(kWaitLimit), std::future_status::ready);
  Status put_status = put.get();
  ASSERT_TRUE(put_status.ok()) << put_status.ToString();

  // The tail went to NVMe to make the room; every block is still there.
  hit = reader->Lookup(reader_ns, full.keys, full.tokens);
  ASSERT_TRUE(hit.ok());
  ASSERT_EQ(hit->matched_blocks, kHostBlocks);
  EXPECT_EQ(hit->locations.back(), TierKind::kNvme);
  std::vector<std::byte> out(kBlockBytes);
  auto got = reader->Get(reader_ns, extra.keys, extra.tokens, out);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 1u);
  EXPECT_EQ(out, extra.payload);
  daemon.Stop();
}

TEST(EventLoopTest, AReserveWhoseConnectionClosedWhileItWaitedLeavesNothingBehind) {
  InProcessDaemon daemon;
  ASSERT_NO_FATAL_FAILURE(daemon.Start());
  auto writer = daemon.Connect();
  ASSERT_TRUE(writer);
  const Namespace ns = *writer->OpenNamespace(Spec());
  ASSERT_TRUE(Put(*writer, ns, MakePrompt(ns, kHostBlocks, 1)).ok());
  daemon.OnLoop([&] { daemon.engine().HoldWrites(); });
  const Prompt extra = MakePrompt(ns, 1, 100000);
  auto reserve = std::async(std::launch::async, [&] {
    return writer->Reserve(ns, ns.id, extra.keys, extra.tokens).status();
  });
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (daemon.engine().held_writes() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(daemon.engine().held_writes(), 1);
  // Every connection closes (and its resources go) while the reserve waits.
  daemon.OnLoop([&] { daemon.StopServing(); });
  ASSERT_EQ(reserve.wait_for(kWaitLimit), std::future_status::ready);
  EXPECT_FALSE(reserve.get().ok());

  daemon.OnLoop([&] { daemon.engine().ReleaseHeldWrites(); });
  // Once the write lands the reserve completes for no one: its slot is freed
  // and its block is not indexed; the tail it made leave is on NVMe.
  bool settled = false;
  while (!settled && std::chrono::steady_clock::now() < deadline + kWaitLimit) {
    daemon.OnLoop([&] {
      const BlockStore& store = daemon.store();
      settled = store.counters().demotions == 1 && store.indexed_blocks() == kHostBlocks &&
                store.host().tier().used_bytes() == (kHostBlocks - 1) * kBlockBytes &&
                store.counters().pinned_blocks == 0;
    });
    if (!settled) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(settled);
  daemon.Stop();
}

}  // namespace
}  // namespace tierkv
