#include "daemon/data_dir_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace tierkv {
namespace {

class DataDirLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tierkv-lock-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(DataDirLockTest, ASecondHolderIsToldWhoHoldsIt) {
  auto first = DataDirLock::Acquire(dir_ + "/data");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // flock is per open file: another process (or open) is refused.
  pid_t child = fork();
  if (child == 0) {
    auto second = DataDirLock::Acquire(dir_ + "/data");
    const bool refused =
        !second.ok() && second.status().code() == StatusCode::kUnavailable &&
        second.status().message().find("another tierkvd (pid " + std::to_string(getppid()) +
                                       ") holds the data dir") != std::string::npos;
    _exit(refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(DataDirLockTest, ReleasedWhenTheHolderGoes) {
  {
    auto first = DataDirLock::Acquire(dir_);
    ASSERT_TRUE(first.ok());
  }
  EXPECT_TRUE(DataDirLock::Acquire(dir_).ok());
  // And when the holding process dies without unlocking.
  pid_t child = fork();
  if (child == 0) {
    auto held = DataDirLock::Acquire(dir_ + "/killed");
    if (!held.ok()) _exit(1);
    pause();
  }
  for (int i = 0; i < 500 && !std::filesystem::exists(dir_ + "/killed/tierkvd.lock"); ++i) {
    usleep(10000);
  }
  usleep(50000);
  EXPECT_FALSE(DataDirLock::Acquire(dir_ + "/killed").ok());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(DataDirLock::Acquire(dir_ + "/killed").ok());
}

}  // namespace
}  // namespace tierkv
