// Faults against real tierkvd processes: clients killed while holding pins
// and reservations (a thousand times), a client that stops reading its
// socket, and the daemon itself SIGKILLed under put/acquire traffic and
// restarted while its clients reconnect and carry on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "protocol/messages.h"
#include "protocol/wire.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"

namespace tierkv::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kSmallBlock = 64 * 1024;
constexpr int kKills = 1000;

TEST(FaultsTest, ThousandKilledClientsLeakNoPinsAndNoPoolSpace) {
  // A small pool: each child maps it, a thousand times.
  DaemonProcess daemon(
      {"--nvme-bytes", "0", "--host-bytes", "8MiB", "--slab-bytes", "1MiB", "--log-level", "warn"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kSmallBlock));
  const Prompt stored = MakePrompt(ns, 8);
  ASSERT_TRUE(client->Put(ns, ns.id, stored.keys, stored.tokens, Payload(ns, 8, 1)).ok());
  const TierStats baseline = TierRow(*client, "host");
  ASSERT_EQ(baseline.used_bytes, 8 * kSmallBlock);

  for (int i = 0; i < kKills; ++i) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const Prompt fresh = MakePrompt(ns, 4, 1000000 + 100 * static_cast<TokenId>(i));
    const pid_t pid = fork();
    if (pid == 0) {
      // Pins the stored prompt and reserves four new slots, then waits to die.
      auto c = daemon.Connect();
      if (!c.ok()) _exit(1);
      auto n = (*c)->OpenNamespace(TestSpec(kSmallBlock));
      if (!n.ok()) _exit(2);
      auto lease = (*c)->Acquire(*n, stored.keys, stored.tokens, 8);
      auto res = (*c)->Reserve(*n, n->id, fresh.keys, fresh.tokens);
      const char byte =
          lease.ok() && lease->size() == 8 && res.ok() && res->size() == 4 ? 'y' : 'n';
      (void)!write(ready[1], &byte, 1);
      pause();
      _exit(0);
    }
    close(ready[1]);
    char byte = 0;
    ASSERT_EQ(read(ready[0], &byte, 1), 1) << "kill " << i;
    close(ready[0]);
    ASSERT_EQ(byte, 'y') << "kill " << i;
    kill(pid, SIGKILL);
    ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
    TierStats now;
    const bool released = WaitUntil([&] {
      now = TierRow(*client, "host");
      return now.pinned_blocks == 0 && now.used_bytes == baseline.used_bytes;
    });
    ASSERT_TRUE(released) << "kill " << i << ": " << now.pinned_blocks << " pinned, "
                          << now.used_bytes << " bytes used, baseline " << baseline.used_bytes;
  }
  const TierStats after = TierRow(*client, "host");
  EXPECT_EQ(after.blocks, baseline.blocks);
  std::vector<std::byte> out(8 * kSmallBlock);
  EXPECT_EQ(*client->Get(ns, stored.keys, stored.tokens, out), 8u);
  EXPECT_EQ(out, Payload(ns, 8, 1));
}

// A Unix socket client that sends requests and never reads a reply.
class SilentClient {
 public:
  explicit SilentClient(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    fcntl(fd_, F_SETFL, O_NONBLOCK);
  }
  ~SilentClient() { close(fd_); }
  bool connected() const { return connected_; }

  // Sends hello then `max_requests` stats requests, until the socket takes no
  // more. Returns true when it backed up: the daemon stopped reading because
  // its replies are not being read.
  bool Flood(size_t max_requests) {
    std::vector<uint8_t> frames;
    wire::HelloRequest hello;
    std::vector<uint8_t> body;
    wire::Writer w(&body);
    hello.Encode(w);
    Append(wire::MessageType::kHello, body, &frames);
    for (size_t i = 0; i < max_requests; ++i) Append(wire::MessageType::kStats, {}, &frames);
    size_t sent = 0;
    const auto until = Clock::now() + std::chrono::seconds(5);
    while (sent < frames.size() && Clock::now() < until) {
      const ssize_t n = send(fd_, frames.data() + sent, frames.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (!PollWritable()) {
        break;  // nothing moved for a while: both directions are full
      }
    }
    return sent < frames.size();
  }

 private:
  static void Append(wire::MessageType type, const std::vector<uint8_t>& body,
                     std::vector<uint8_t>* out) {
    wire::FrameHeader h;
    h.type = static_cast<uint16_t>(type);
    h.body_bytes = static_cast<uint32_t>(body.size());
    const size_t at = out->size();
    out->resize(at + wire::kHeaderBytes);
    wire::EncodeHeader(h, out->data() + at);
    out->insert(out->end(), body.begin(), body.end());
  }
  bool PollWritable() {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd_, &set);
    timeval tv{0, 200 * 1000};
    return select(fd_ + 1, nullptr, &set, nullptr, &tv) > 0;
  }
  int fd_ = -1;
  bool connected_ = false;
};

TEST(FaultsTest, ClientThatStopsReadingStallsOnlyItself) {
  DaemonProcess daemon({"--log-level", "warn"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kSmallBlock));
  const Prompt p = MakePrompt(ns, 4);
  ASSERT_TRUE(client->Put(ns, ns.id, p.keys, p.tokens, Payload(ns, 4, 2)).ok());

  SilentClient silent(daemon.socket_path());
  ASSERT_TRUE(silent.connected());
  // Far more stats replies than the socket buffers hold: the daemon stops
  // reading this connection once its replies back up.
  constexpr size_t kFlood = 100000;
  EXPECT_TRUE(silent.Flood(kFlood)) << "the daemon never stopped reading";

  // Each of these would time out (the client's 10 s receive timeout, an
  // error) if the daemon waited on the client that does not read.
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    auto hit = client->Lookup(ns, p.keys, p.tokens);
    ASSERT_TRUE(hit.ok()) << "a lookup waited on the client that does not read: "
                          << hit.status().ToString();
    ASSERT_EQ(hit->matched_blocks, 4u);
  }
  std::vector<std::byte> out(4 * kSmallBlock);
  EXPECT_EQ(*client->Get(ns, p.keys, p.tokens, out), 4u);
  EXPECT_EQ(out, Payload(ns, 4, 2));
  // The stalled connection is still open (stalled, not dropped), and a new
  // client connects fine.
  EXPECT_GE(client->GetStats()->connections, 2u);
  EXPECT_TRUE(daemon.Connect().ok());
}

// --- SIGKILL under traffic -------------------------------------------------

constexpr uint64_t kTrafficBlock = 256 * 1024;
constexpr size_t kPromptBlocks = 4;
constexpr int kWriters = 4;
constexpr uint32_t kPromptsPerWriter = 40;  // 160 MiB in all: fits host + NVMe
constexpr uint32_t kFlushEvery = 4;
constexpr size_t kDurableBeforeKill = 6;  // per writer
constexpr auto kReconnectDeadline = std::chrono::seconds(60);

Prompt WriterPrompt(const Namespace& ns, int writer, uint32_t i) {
  return MakePrompt(ns, kPromptBlocks, 10000000u * (writer + 1) + 1000u * (i + 1));
}
uint64_t WriterSeed(int writer, uint32_t i) { return 1000u * (writer + 1) + i; }

// Whether the test has sent (or is about to send) the daemon SIGKILL, and
// whether the daemon is back.
struct KillState {
  std::atomic<bool> killed{false};
  std::atomic<bool> restarted{false};
};

// One writer: puts its prompts, reads back earlier ones, flushes every few
// puts (what a flush returned OK for is durable), and when the daemon dies,
// reconnects and checks what survived, then goes on. A request that fails
// before the kill is an error.
class TrafficWriter {
 public:
  TrafficWriter(const DaemonProcess* daemon, int index) : daemon_(daemon), index_(index) {}

  void Run(const KillState* kill) {
    if (!Connect()) return Error("first connect failed");
    uint32_t next = 0;
    for (;;) {
      Status s = next < kPromptsPerWriter ? PutAndFlush(next) : ReadBack(next);
      if (s.ok()) {
        if (next < kPromptsPerWriter) ++next;
        continue;
      }
      // `killed` is set before the signal is sent, so a failure seen while it
      // is still false cannot have been caused by the kill.
      if (!kill->killed.load()) {
        Error("request failed before the kill: " + s.ToString());
      }
      const std::atomic<bool>* restarted = &kill->restarted;
      if (!restarted->load()) {
        // The daemon was killed under us: wait for the restart.
        if (!WaitUntil([&] { return restarted->load(); }, kReconnectDeadline)) {
          return Error("daemon never came back");
        }
      }
      if (!Connect()) return Error("reconnect failed");
      break;
    }
    CheckSurvivors();
    // Carry on: new puts and reads work on the restarted daemon.
    for (uint32_t i = kPromptsPerWriter; i < kPromptsPerWriter + 4; ++i) {
      if (!PutAndFlush(i).ok()) return Error("put after restart failed");
      bool exact = false;
      if (Get(i, &exact) != kPromptBlocks || !exact) return Error("read after restart failed");
    }
  }

  size_t durable() const { return durable_.load(); }
  std::vector<std::string> errors() const {
    std::lock_guard lock(mu_);
    return errors_;
  }

 private:
  bool Connect() {
    const auto until = Clock::now() + kReconnectDeadline;
    while (Clock::now() < until) {
      auto c = daemon_->Connect();
      if (c.ok()) {
        auto ns = (*c)->OpenNamespace(TestSpec(kTrafficBlock));
        if (ns.ok()) {
          client_ = std::move(*c);
          ns_ = *ns;
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void Error(const std::string& what) {
    std::lock_guard lock(mu_);
    errors_.push_back("writer " + std::to_string(index_) + ": " + what);
  }

  Status PutAndFlush(uint32_t i) {
    const Prompt p = WriterPrompt(ns_, index_, i);
    TIERKV_RETURN_IF_ERROR(client_->Put(ns_, ns_.id, p.keys, p.tokens,
                                        Payload(ns_, kPromptBlocks, WriterSeed(index_, i))));
    if ((i + 1) % kFlushEvery == 0) {
      TIERKV_RETURN_IF_ERROR(client_->Flush().status());
      durable_.store(i + 1);
    }
    // Acquire traffic: read back an earlier prompt and check its bytes.
    bool exact = false;
    const uint32_t back = i / 2;
    TIERKV_ASSIGN_OR_RETURN(uint32_t n, GetStatus(back, &exact));
    if (n > 0 && !exact) Error("corrupt block served before the kill");
    return Status::Ok();
  }
  Status ReadBack(uint32_t n) {
    bool exact = false;
    const uint32_t i = static_cast<uint32_t>(reads_++ % n);
    auto got = GetStatus(i, &exact);
    if (!got.ok()) return got.status();
    if (*got > 0 && !exact) Error("corrupt block served before the kill");
    return Status::Ok();
  }
  Result<uint32_t> GetStatus(uint32_t i, bool* exact) {
    const Prompt p = WriterPrompt(ns_, index_, i);
    std::vector<std::byte> out(kPromptBlocks * kTrafficBlock);
    TIERKV_ASSIGN_OR_RETURN(uint32_t n, client_->Get(ns_, p.keys, p.tokens, out));
    const auto want = Payload(ns_, kPromptBlocks, WriterSeed(index_, i));
    *exact = std::memcmp(out.data(), want.data(), n * kTrafficBlock) == 0;
    return n;
  }
  uint32_t Get(uint32_t i, bool* exact) {
    auto n = GetStatus(i, exact);
    return n.ok() ? *n : 0;
  }
  void CheckSurvivors() {
    const size_t durable = durable_.load();
    for (uint32_t i = 0; i < kPromptsPerWriter + 1; ++i) {
      bool exact = false;
      auto n = GetStatus(i, &exact);
      if (!n.ok()) return Error("get after restart: " + n.status().ToString());
      if (*n > 0 && !exact)
        Error("corrupt block served after restart, prompt " + std::to_string(i));
      if (i < durable && *n != kPromptBlocks) {
        Error("flushed prompt " + std::to_string(i) + " lost: " + std::to_string(*n) + " blocks");
      }
    }
  }

  const DaemonProcess* daemon_;
  const int index_;
  std::unique_ptr<Client> client_;
  Namespace ns_;
  std::atomic<size_t> durable_{0};
  uint64_t reads_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> errors_;
};

TEST(FaultsTest, DaemonSigkilledUnderTrafficRestartsWithEveryFlushedBlock) {
  DaemonProcess daemon({"--nvme-bytes", "512MiB", "--log-level", "warn"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  KillState kill;
  std::vector<std::unique_ptr<TrafficWriter>> writers;
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) writers.push_back(std::make_unique<TrafficWriter>(&daemon, i));
  for (const auto& w : writers) {
    threads.emplace_back([&kill, writer = w.get()] { writer->Run(&kill); });
  }
  const bool enough = WaitUntil(
      [&] {
        return std::all_of(writers.begin(), writers.end(),
                           [](const auto& w) { return w->durable() >= kDurableBeforeKill; });
      },
      std::chrono::seconds(120));
  kill.killed.store(true);
  daemon.Kill();  // SIGKILL mid-traffic
  const bool started = daemon.Start();
  kill.restarted.store(true);
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(started) << daemon.log();
  EXPECT_TRUE(enough) << "writers did not make enough prompts durable before the kill";
  for (const auto& w : writers) {
    for (const std::string& e : w->errors()) ADD_FAILURE() << e;
  }
  auto client = std::move(daemon.Connect()).value();
  EXPECT_EQ(TierRow(*client, "host").pinned_blocks, 0u);
}

}  // namespace
}  // namespace tierkv::testing
