// Damage to the NVMe tier under a real tierkvd: a slab file cut short, an
// index whose write-ahead log was damaged after a crash, and an index whose
// tables, MANIFEST or CURRENT were damaged (kept aside and repaired), all
// found at start-up; and a disk that fills up under the tier. Damaged entries are
// dropped (and counted), everything else is served, and nothing served is
// ever different from what was written.
#include <fcntl.h>
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

using Stored = StoredPrompt;

// Puts prompts first .. first + count - 1.
std::vector<Stored> PutPrompts(Client& c, const Namespace& ns, size_t count,
                               size_t blocks = kPromptBlocks, size_t first = 0) {
  std::vector<Stored> out;
  for (size_t i = first; i < first + count; ++i) out.push_back(PutStoredPrompt(c, ns, i, blocks));
  return out;
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

// What a damaged RocksDB index looks like on disk (issue 11).
enum class IndexDamage { kTableByte, kManifestByte, kGarbledCurrent };

const char* Name(IndexDamage d) {
  switch (d) {
    case IndexDamage::kTableByte: return "a flipped byte in the .sst";
    case IndexDamage::kManifestByte: return "a flipped byte in the MANIFEST";
    case IndexDamage::kGarbledCurrent: return "a garbled CURRENT";
  }
  return "";
}

void FlipByteInTheMiddle(const fs::path& file) {
  ASSERT_FALSE(file.empty());
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  const auto at = static_cast<std::streamoff>(fs::file_size(file) / 2);
  f.seekg(at);
  char byte = 0;
  f.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  f.seekp(at);
  f.write(&byte, 1);
}

void Damage(const fs::path& index, IndexDamage d) {
  switch (d) {
    case IndexDamage::kTableByte: FlipByteInTheMiddle(LargestFile(index, ".sst")); return;
    case IndexDamage::kManifestByte: {
      fs::path manifest;
      for (const auto& f : fs::directory_iterator(index)) {
        if (f.path().filename().string().rfind("MANIFEST-", 0) == 0) manifest = f.path();
      }
      FlipByteInTheMiddle(manifest);
      return;
    }
    case IndexDamage::kGarbledCurrent: {
      std::ofstream(index / "CURRENT", std::ios::trunc) << "\x01garbled";
      return;
    }
  }
}

TEST(NvmeDamageTest, ADamagedIndexIsKeptAsideRepairedAndServesOnlyExactBlocks) {
  constexpr size_t kBlocks = 16;
  for (IndexDamage d :
       {IndexDamage::kTableByte, IndexDamage::kManifestByte, IndexDamage::kGarbledCurrent}) {
    SCOPED_TRACE(Name(d));
    DaemonProcess daemon({"--nvme-bytes", "256MiB"});
    ASSERT_TRUE(daemon.Start()) << daemon.log();
    // A restart replays the index's log into a table: the records are in an .sst.
    const std::vector<Stored> stored = StoreAndStop(daemon, kBlocks);
    ASSERT_TRUE(daemon.Start()) << daemon.log();
    ASSERT_EQ(daemon.Stop(), 0) << daemon.log();
    const fs::path nvme_dir = daemon.dir() + "/data/nvme";
    Damage(nvme_dir / "index", d);
    ASSERT_TRUE(daemon.Start()) << "a damaged index must not stop the daemon\n" << daemon.log();
    const std::string log = daemon.log();
    EXPECT_NE(log.find("the index is damaged"), std::string::npos) << log;
    EXPECT_NE(log.find("the damaged copy is kept in"), std::string::npos) << log;
    size_t kept = 0;
    for (const auto& f : fs::directory_iterator(nvme_dir)) {
      if (f.path().filename().string().rfind("index.damaged-", 0) == 0) ++kept;
    }
    EXPECT_EQ(kept, 1u) << "the damaged copy was not kept aside";
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    const uint64_t loaded = TierJson(*client, "nvme").at("loaded_blocks").get<uint64_t>();
    EXPECT_NE(log.find(std::to_string(loaded) + " blocks recovered"), std::string::npos) << log;
    // RepairDB rebuilds the MANIFEST and CURRENT from the tables: nothing is
    // lost. A damaged table loses the records it can no longer read.
    if (d != IndexDamage::kTableByte) EXPECT_EQ(loaded, kBlocks);
    // Whatever was recovered is served, byte-exact; nothing else is.
    EXPECT_EQ(CheckServedIsExact(*client, ns, stored), loaded);
    // It goes on storing and serving.
    const auto more = PutPrompts(*client, ns, 1, kPromptBlocks, /*first=*/kBlocks);
    EXPECT_EQ(CheckServedIsExact(*client, ns, more), kPromptBlocks);
  }
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
      Stored s = MakeStoredPrompt(ns, i, kPromptBlocks);
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

// Fills the file system under `path` until a write fails; the filler file
// stays until the test ends.
void FillDisk(const std::string& path) {
  std::ofstream filler(path, std::ios::binary | std::ios::app);
  const std::string chunk(1 << 16, '\x42');
  while (filler.write(chunk.data(), static_cast<std::streamsize>(chunk.size())) && filler.flush()) {
  }
}

// Payload writes that fail (ENOSPC: the slab file's space is given back and
// the disk filled) drop their blocks: puts still find room on the host, the
// failed blocks become misses, nothing is indexed for them, and everything
// served is exact.
TEST(NvmeDamageTest, FailedNvmeWritesDropTheirBlocks) {
  char tmpl[] = "/tmp/tierkv-disk-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  {
    SmallDisk disk(root + "/disk", "100m");
    if (!disk.mounted()) {
      fs::remove_all(root);
      GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error() << "); failed NVMe writes "
                   << "are covered by NvmeStoreTest.PayloadIoErrorsFailOnlyTheirRequest";
    }
    DaemonProcess daemon({"--nvme-bytes", "64MiB", "--data-dir", root + "/disk/data"});
    ASSERT_TRUE(daemon.Start()) << daemon.log();
    auto client = std::move(daemon.Connect(/*admin_token=*/"")).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    // Make the slab file exist, then empty the tier again.
    PutPrompts(*client, ns, 1, kPromptBlocks, /*first=*/100);
    ASSERT_TRUE(client->Flush().ok());
    ASSERT_GE(*client->Evict(nullptr), kPromptBlocks);
    const fs::path slab = LargestFile(root + "/disk/data/nvme", ".dat");
    ASSERT_FALSE(slab.empty());
    // Give the slab file's space back to a disk that is full.
    FillDisk(root + "/disk/filler");
    {
      const int fd = open(slab.c_str(), O_RDWR);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                          static_cast<off_t>(fs::file_size(slab))),
                0)
          << std::strerror(errno);
      close(fd);
    }
    FillDisk(root + "/disk/filler");
    const uint64_t dropped_before = StatsJson(*client).at("dropped_blocks").get<uint64_t>();

    // 80 MiB into the 64 MiB host: making room needs NVMe writes, which fail.
    constexpr size_t kPuts = 10;
    const std::vector<Stored> stored = PutPrompts(*client, ns, kPuts);
    const auto nvme = TierJson(*client, "nvme");
    EXPECT_GT(nvme.at("write_errors").get<uint64_t>(), 0u) << "no NVMe write failed";
    EXPECT_EQ(nvme.at("blocks").get<uint64_t>(), 0u) << "a block whose write failed is indexed";
    const uint64_t dropped =
        StatsJson(*client).at("dropped_blocks").get<uint64_t>() - dropped_before;
    EXPECT_GE(dropped, (kPuts * kPromptBlocks * kBlockBytes - (64u << 20)) / kBlockBytes);
    EXPECT_TRUE(client->GetHealth().ok());
    // What is served is exact, and the newest prompt is whole on the host.
    const size_t served = CheckServedIsExact(*client, ns, stored);
    EXPECT_LE(served, kPuts * kPromptBlocks - dropped);
    bool exact = false;
    EXPECT_EQ(GetExact(*client, ns, stored.back(), &exact), kPromptBlocks);
    EXPECT_TRUE(exact);
    EXPECT_EQ(daemon.Stop(), 0) << daemon.log();
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace tierkv::testing
