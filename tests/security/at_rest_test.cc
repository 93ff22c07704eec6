// State at rest (issue 11): the secret, the NVMe tier's slab files and its
// RocksDB index hold every tenant's KV and the root of every namespace id, so
// no other local user may read them. A new data dir is the daemon's user's
// only (0600 files, 0700 directories), and one an older version left open to
// others is closed at start, with a log line; the blocks in it survive.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

namespace fs = std::filesystem;

constexpr fs::perms kGroupAndOthers = fs::perms::group_all | fs::perms::others_all;
// The modes an older tierkvd created its state with.
constexpr fs::perms kOldFileMode = fs::perms(0644);
constexpr fs::perms kOldDirMode = fs::perms(0755);

struct Tree {
  std::vector<std::string> open_to_others;  // paths with a group or other bit
  size_t files = 0;
  size_t dirs = 0;
};

Tree Walk(const std::string& root) {
  Tree tree;
  auto visit = [&tree](const fs::path& path) {
    const fs::file_status status = fs::symlink_status(path);
    if (fs::is_directory(status)) ++tree.dirs;
    if (fs::is_regular_file(status)) ++tree.files;
    if ((status.permissions() & kGroupAndOthers) != fs::perms::none) {
      tree.open_to_others.push_back(path.string());
    }
  };
  visit(root);
  for (const auto& entry : fs::recursive_directory_iterator(root)) visit(entry.path());
  return tree;
}

// Every file and directory under `root` as an older tierkvd left it.
void OpenToOthers(const std::string& root) {
  fs::permissions(root, kOldDirMode);
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    fs::permissions(entry.path(), entry.is_directory() ? kOldDirMode : kOldFileMode);
  }
}

class AtRestTest : public SecurityTest {
 protected:
  std::string DataDir() { return daemon().dir() + "/data"; }
  // The secret, a slab file and the index are all there to be checked.
  void ExpectTheStateIsThere() {
    EXPECT_TRUE(fs::exists(DataDir() + "/secret"));
    EXPECT_TRUE(fs::exists(DataDir() + "/nvme/index/CURRENT"));
    const Tree tree = Walk(DataDir());
    EXPECT_GE(tree.dirs, 3u);   // data, nvme, nvme/index
    EXPECT_GE(tree.files, 4u);  // secret, a slab, CURRENT, MANIFEST...
  }
};

TEST_F(AtRestTest, ANewDataDirIsReadableByTheDaemonsUserOnly) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  CloseVictimConnections();
  // A clean stop writes the host tier's blocks to NVMe; a restart replays the
  // index's log into a table: every kind of file the daemon makes is made.
  ASSERT_EQ(daemon().Stop(), 0) << daemon().log();
  ASSERT_TRUE(daemon().Start()) << daemon().log();
  ExpectStoredBlocksIntact();
  ASSERT_EQ(daemon().Stop(), 0) << daemon().log();
  ExpectTheStateIsThere();
  const Tree tree = Walk(DataDir());
  EXPECT_TRUE(tree.open_to_others.empty())
      << tree.open_to_others.size() << " readable by others, first " << tree.open_to_others[0];
  ASSERT_TRUE(daemon().Start()) << daemon().log();
  EXPECT_EQ(daemon().log().find("were readable by others"), std::string::npos) << daemon().log();
}

TEST_F(AtRestTest, ADataDirLeftOpenByAnOlderVersionIsClosedAtStartAndItsBlocksServed) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  CloseVictimConnections();
  ASSERT_EQ(daemon().Stop(), 0) << daemon().log();
  OpenToOthers(DataDir());
  const size_t opened = Walk(DataDir()).open_to_others.size();
  ASSERT_GE(opened, 7u);
  ASSERT_TRUE(daemon().Start()) << daemon().log();
  EXPECT_NE(daemon().log().find(std::to_string(opened) + " files and directories were readable "
                                                         "by others"),
            std::string::npos)
      << daemon().log();
  const Tree tree = Walk(DataDir());
  EXPECT_TRUE(tree.open_to_others.empty())
      << tree.open_to_others.size() << " still readable by others, first "
      << tree.open_to_others[0];
  ExpectStoredBlocksIntact();
}

}  // namespace
}  // namespace tierkv::testing
