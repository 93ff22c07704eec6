#include "tiers/nvme/file_system.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

#include "tiers/nvme/testing/fault_injection_file_system.h"
#include "tiers/nvme/testing/temp_dir.h"

namespace tierkv::nvme {
namespace {

using testing::FaultInjectionFileSystem;
using testing::FsOp;
using testing::TempDir;

TEST(PosixFileSystemTest, CreatesAllocatesListsAndUnlinks) {
  TempDir dir;
  FileSystem* fs = DefaultFileSystem();
  ASSERT_TRUE(fs->CreateDirIfMissing(dir.Sub("d")).ok());
  ASSERT_TRUE(fs->CreateDirIfMissing(dir.Sub("d")).ok());
  Result<UniqueFd> fd = fs->OpenDirect(dir.Sub("d/f"), /*create=*/true);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  ASSERT_TRUE(fs->Allocate(fd->get(), 0, 1 << 16).ok());
  EXPECT_EQ(*fs->FileSize(fd->get()), 1u << 16);
  EXPECT_TRUE(fs->DataSync(fd->get()).ok());
  EXPECT_TRUE(fs->SyncDir(dir.Sub("d")).ok());
  Result<std::vector<std::string>> names = fs->ListDir(dir.Sub("d"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"f"});
  EXPECT_TRUE(fs->Unlink(dir.Sub("d/f")).ok());
  EXPECT_TRUE(fs->OpenDirect(dir.Sub("d/f"), /*create=*/false).status().IsNotFound());
}

TEST(FaultInjectionFileSystemTest, FailsChosenOpsTheChosenNumberOfTimes) {
  TempDir dir;
  FaultInjectionFileSystem fs(DefaultFileSystem());
  Result<UniqueFd> fd = fs.OpenDirect(dir.Sub("f"), /*create=*/true);
  ASSERT_TRUE(fd.ok());
  fs.InjectError(FsOp::kAllocate, ENOSPC, /*times=*/2);
  Status s = fs.Allocate(fd->get(), 0, 4096);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_TRUE(fs.Allocate(fd->get(), 0, 4096).IsResourceExhausted());
  EXPECT_TRUE(fs.Allocate(fd->get(), 0, 4096).ok());
  EXPECT_EQ(fs.injected_failures(FsOp::kAllocate), 2);

  fs.InjectError(FsOp::kDataSync, EIO);
  EXPECT_TRUE(fs.DataSync(fd->get()).IsIOError());
  EXPECT_TRUE(fs.DataSync(fd->get()).IsIOError());
  fs.Clear();
  EXPECT_TRUE(fs.DataSync(fd->get()).ok());
}

}  // namespace
}  // namespace tierkv::nvme
