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

namespace tierkv::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kBlockBytes = 1 << 20;
constexpr size_t kPromptBlocks = 8;
constexpr size_t kPrompts = 12;  // 96 MiB: more than the 64 MiB host tier

struct Stored {
  Prompt prompt;
  std::vector<std::byte> payload;
};

std::vector<Stored> PutPrompts(Client& c, const Namespace& ns, size_t count) {
  std::vector<Stored> out;
  for (size_t i = 0; i < count; ++i) {
    Stored s{MakePrompt(ns, kPromptBlocks, static_cast<TokenId>(100000 * (i + 1))),
             Payload(ns, kPromptBlocks, i + 1)};
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
// many prompts came back whole.
size_t CheckServedIsExact(Client& c, const Namespace& ns, const std::vector<Stored>& stored) {
  size_t whole = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    bool exact = false;
    const size_t n = GetExact(c, ns, stored[i], &exact);
    if (n > 0) {
      EXPECT_TRUE(exact) << "prompt " << i << ": a damaged block was served";
    }
    whole += n == kPromptBlocks;
  }
  return whole;
}

nlohmann::json NvmeStats(Client& c) {
  return nlohmann::json::parse(c.GetStats()->raw_json)["tiers"][1];
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

TEST(NvmeDamageTest, TruncatedSlabFileDropsItsEntriesAndServesTheRest) {
  DaemonProcess daemon({"--nvme-bytes", "512MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  std::vector<Stored> stored;
  {
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    stored = PutPrompts(*client, ns, kPrompts);
  }
  ASSERT_EQ(daemon.Stop(), 0) << daemon.log();  // every block is on NVMe now
  const fs::path slab = LargestFile(daemon.dir() + "/data/nvme", ".dat");
  ASSERT_FALSE(slab.empty());
  // Cut the file in the middle of what was written (files are preallocated
  // larger than the data, so halving the file might cut nothing).
  const uintmax_t written = kPrompts * kPromptBlocks * kBlockBytes;
  ASSERT_GT(fs::file_size(slab), written / 2);
  fs::resize_file(slab, written / 2 + kBlockBytes / 2);

  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const auto nvme = NvmeStats(*client);
  const uint64_t dropped = nvme["dropped_at_load"].get<uint64_t>();
  EXPECT_GT(dropped, 0u) << "entries pointing past the cut were not dropped";
  EXPECT_EQ(nvme["loaded_blocks"].get<uint64_t>() + dropped, kPrompts * kPromptBlocks);
  EXPECT_GT(CheckServedIsExact(*client, ns, stored), 0u) << "nothing was served";
  EXPECT_NE(daemon.log().find("damaged entries dropped"), std::string::npos);
}

TEST(NvmeDamageTest, DamagedIndexLogAfterACrashServesOnlyExactBlocks) {
  DaemonProcess daemon({"--nvme-bytes", "512MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  std::vector<Stored> stored;
  {
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    stored = PutPrompts(*client, ns, kPrompts);
    ASSERT_TRUE(client->Flush().ok());
  }
  daemon.Kill();  // the index's records are still only in its log
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
  CheckServedIsExact(*client, ns, stored);
  // It goes on storing and serving.
  const auto more = PutPrompts(*client, ns, 2);
  EXPECT_EQ(CheckServedIsExact(*client, ns, more), 2u);
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
    EXPECT_GT(CheckServedIsExact(*client, ns, stored), 0u);
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
