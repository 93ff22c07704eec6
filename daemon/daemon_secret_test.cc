#include "daemon/daemon_secret.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace tierkv {
namespace {

class DaemonSecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/tierkv-secret-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

TEST_F(DaemonSecretTest, CreatedOnceWithItsDirectoryAndReused) {
  const std::string path = dir_ + "/nested/dir/secret";
  auto first = LoadOrCreateSecret(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), kSecretBytes);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateSecret(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  auto other = LoadOrCreateSecret(dir_ + "/other");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);
  // Nothing but the secret is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ + "/nested/dir"), {}), 1);
}

TEST_F(DaemonSecretTest, AFileOfTheWrongLengthIsRefusedAndKept) {
  const std::string path = dir_ + "/secret";
  std::ofstream(path) << "short";
  auto secret = LoadOrCreateSecret(path);
  EXPECT_TRUE(secret.status().IsCorruption()) << secret.status().ToString();
  EXPECT_NE(secret.status().message().find(path), std::string::npos);
  EXPECT_EQ(std::filesystem::file_size(path), 5u);
}

TEST_F(DaemonSecretTest, CreatorsRacingOnOnePathAllGetTheSameSecret) {
  constexpr int kCreators = 8;
  const std::string path = dir_ + "/shared";
  std::vector<Result<std::string>> results(kCreators, Status::Unavailable("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kCreators; ++i) {
    threads.emplace_back([&, i] { results[i] = LoadOrCreateSecret(path); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, *results[0]);
  }
}

}  // namespace
}  // namespace tierkv
