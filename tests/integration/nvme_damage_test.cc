// Damage to the NVMe tier under a real tierkvd: a slab file cut short and an
// index whose write-ahead log was damaged after a crash, both found at
// start-up; and a disk that fills up under the tier. Damaged entries are
// dropped (and counted), everything else is served, and nothing served is
// ever different from what was written.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"

namespace tierkv::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kBlockBytes = 1 << 20;
constexpr size_t kPromptBlocks = 8;
constexpr size_t kPrompts = 12;  // 96 MiB: more than the 64 MiB host tier
// The damage tests store one-block prompts, so that every block the daemon
// still indexes can be served on its own (a prompt is served only up to its
// first missing block).
constexpr size_t kSingleBlockPrompts = kPrompts * kPromptBlocks;

struct Stored {
  Prompt prompt;
  std::vector<std::byte> payload;
};

// Puts prompts first .. first + count - 1.
std::vector<Stored> PutPrompts(Client& c, const Namespace& ns, size_t count,
                               size_t blocks = kPromptBlocks, size_t first = 0) {
  std::vector<Stored> out;
  for (size_t i = first; i < first + count; ++i) {
    Stored s{MakePrompt(ns, blocks, static_cast<TokenId>(100000 * (i + 1))),
             Payload(ns, blocks, i + 1)};
    Status st = c.Put(ns, ns.id, s.prompt.keys, s.prompt.tokens, s.payload);
    EXPECT_TRUE(st.ok()) << "prompt " << i << ": " << st.ToString();
    out.push_back(std::move(s));
  }
  return out;
}

// Leading blocks served for a prompt; *exact tells whether they are the bytes
// that were written.
size_t GetExact(Client& c, const Namespace& ns, const Stored& s, bool* exact) {
  std::vector<std::byte> out(s.payload.size());
  auto n = c.Get(ns, s.prompt.keys, s.prompt.tokens, out);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  if (!n.ok()) return 0;
  *exact = std::memcmp(out.data(), s.payload.data(), *n * kBlockBytes) == 0;
  return *n;
}

// Serves what it can of every prompt; fails on any inexact byte. Returns how
// many blocks were served in all.
size_t CheckServedIsExact(Client& c, const Namespace& ns, const std::vector<Stored>& stored) {
  size_t served = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    bool exact = false;
    const size_t n = GetExact(c, ns, stored[i], &exact);
    if (n > 0) {
      EXPECT_TRUE(exact) << "prompt " << i << ": a damaged block was served";
    }
    served += n;
  }
  return served;
}

// The largest file under `dir` whose name ends with `suffix`.
fs::path LargestFile(const fs::path& dir, const std::string& suffix) {
  fs::path best;
  uintmax_t best_size = 0;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    const std::string name = f.path().filename().string();
    if (!f.is_regular_file() || name.size() < suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    if (f.file_size() > best_size) {
      best_size = f.file_size();
      best = f.path();
    }
  }
  return best;
}

// Stores `count` one-block prompts, stops the daemon cleanly (every block is
// on NVMe then) and returns them.
std::vector<Stored> StoreAndStop(DaemonProcess& daemon, size_t count) {
  std::vector<Stored> stored;
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  stored = PutPrompts(*client, ns, count, /*blocks=*/1);
  client.reset();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.log();
  return stored;
}

TEST(NvmeDamageTest, TruncatedSlabFileDropsItsEntriesAndServesTheRest) {
  DaemonProcess daemon({"--nvme-bytes", "512MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  const std::vector<Stored> stored = StoreAndStop(daemon, kSingleBlockPrompts);
  const fs::path slab = LargestFile(daemon.dir() + "/data/nvme", ".dat");
  ASSERT_FALSE(slab.empty());
  // Cut the file in the middle of what was written (files are preallocated
  // larger than the data, so halving the file might cut nothing).
  const uintmax_t written = kSingleBlockPrompts * kBlockBytes;
  ASSERT_GT(fs::file_size(slab), written / 2);
  fs::resize_file(slab, written / 2 + kBlockBytes / 2);

  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const auto nvme = TierJson(*client, "nvme");
  const uint64_t dropped = nvme.at("dropped_at_load").get<uint64_t>();
  const uint64_t loaded = nvme.at("loaded_blocks").get<uint64_t>();
  EXPECT_GT(dropped, 0u) << "entries pointing past the cut were not dropped";
  EXPECT_GT(loaded, 0u) << "the blocks before the cut were lost too";
  EXPECT_EQ(loaded + dropped, kSingleBlockPrompts);
  // Every block still indexed is served, byte-exact; the dropped ones are misses.
  EXPECT_EQ(CheckServedIsExact(*client, ns, stored), loaded);
  EXPECT_EQ(nvme.at("corrupt_dropped").get<uint64_t>(), 0u);
  EXPECT_NE(daemon.log().find(std::to_string(dropped) + " damaged entries dropped"),
            std::string::npos)
      << daemon.log();
}

TEST(NvmeDamageTest, DamagedIndexLogAfterACrashServesOnlyExactBlocks) {
  DaemonProcess daemon({"--nvme-bytes", "512MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  // The first half of the blocks goes through a clean restart: reopening the
  // index replays its log into a table, so their records are no longer in
  // the log the damage hits. The second half is flushed, then SIGKILL: their
  // records are only in the log.
  constexpr size_t kHalf = kSingleBlockPrompts / 2;
  std::vector<Stored> stored = StoreAndStop(daemon, kHalf);
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  {
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    std::vector<Stored> second = PutPrompts(*client, ns, kHalf, /*blocks=*/1, /*first=*/kHalf);
    stored.insert(stored.end(), std::make_move_iterator(second.begin()),
                  std::make_move_iterator(second.end()));
    ASSERT_TRUE(client->Flush().ok());
  }
  daemon.Kill();
  const fs::path log = LargestFile(daemon.dir() + "/data/nvme", ".log");
  ASSERT_FALSE(log.empty());
  const uintmax_t size = fs::file_size(log);
  ASSERT_GT(size, 4096u);
  {
    // Garbage over the last quarter of the log, as a torn write would leave.
    std::fstream f(log, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - size / 4));
    const std::string junk(size / 4, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  ASSERT_TRUE(daemon.Start()) << "a damaged index log must not stop the daemon\n" << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const uint64_t loaded = TierJson(*client, "nvme").at("loaded_blocks").get<uint64_t>();
  // Every record outside the damaged log survives: an index that came back
  // empty (or was thrown away) fails here.
  EXPECT_GE(loaded, kHalf) << "records outside the damaged log were lost";
  EXPECT_LT(loaded, kSingleBlockPrompts) << "the damage hit no record: the test proves nothing";
  // Every block indexed is served, and byte-exact.
  EXPECT_EQ(CheckServedIsExact(*client, ns, stored), loaded);
  for (size_t i = 0; i < kHalf; ++i) {
    bool exact = false;
    EXPECT_EQ(GetExact(*client, ns, stored[i], &exact), 1u) << "block " << i << " lost";
  }
  // It goes on storing and serving.
  const auto more = PutPrompts(*client, ns, 2, kPromptBlocks, /*first=*/kSingleBlockPrompts);
  EXPECT_EQ(CheckServedIsExact(*client, ns, more), 2 * kPromptBlocks);
}

// Mounts a small tmpfs (needs root); unmounts it on destruction.
class SmallDisk {
 public:
  SmallDisk(const std::string& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    error_ = errno;
  }
  ~SmallDisk() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  std::string error() const { return std::strerror(error_); }

 private:
  std::string dir_;
  bool mounted_ = false;
  int error_ = 0;
};

TEST(NvmeDamageTest, FullDiskUnderTheNvmeTierKeepsServingExactBlocks) {
  char tmpl[] = "/tmp/tierkv-disk-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  std::vector<Stored> stored;
  {
    // 40 MiB of disk for a tier configured for 512 MiB.
    SmallDisk disk(root + "/disk", "40m");
    if (!disk.mounted()) {
      fs::remove_all(root);
      GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error() << "); the NVMe tier's "
                   << "ENOSPC handling is covered by tiers/nvme unit tests";
    }
    DaemonProcess daemon({"--nvme-bytes", "512MiB", "--data-dir", root + "/disk/data"});
    ASSERT_TRUE(daemon.Start()) << daemon.log();
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    // 160 MiB into 64 MiB of host and 40 MiB of disk: puts may be refused or
    // old blocks dropped, but the daemon must stay up and exact.
    for (size_t i = 0; i < 20; ++i) {
      Stored s{MakePrompt(ns, kPromptBlocks, static_cast<TokenId>(100000 * (i + 1))),
               Payload(ns, kPromptBlocks, i + 1)};
      Status st = client->Put(ns, ns.id, s.prompt.keys, s.prompt.tokens, s.payload);
      EXPECT_TRUE(st.ok() || st.IsResourceExhausted()) << "prompt " << i << ": " << st.ToString();
      stored.push_back(std::move(s));
    }
    EXPECT_TRUE(client->GetHealth().ok());
    CheckServedIsExact(*client, ns, stored);
    // The newest prompt is on the host and whole.
    bool exact = false;
    EXPECT_EQ(GetExact(*client, ns, stored.back(), &exact), kPromptBlocks);
    EXPECT_TRUE(exact);
    EXPECT_EQ(daemon.Stop(), 0) << daemon.log();
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace tierkv::testing
