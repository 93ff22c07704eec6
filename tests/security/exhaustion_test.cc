// A daemon out of file descriptors (issue 11): it stops accepting for a
// moment and logs once per interval instead of spinning on accept, keeps
// serving its connected clients, accepts again once descriptors are back,
// and a SIGTERM in that state still ends it cleanly.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

constexpr int kConnections = 32;
constexpr int kDeadlineMs = 20000;
// How long the daemon is watched while out of descriptors: a daemon that
// re-arms accept at once logs thousands of lines in this time.
constexpr auto kWatch = std::chrono::milliseconds(500);
constexpr size_t kMostAcceptLines = 2;

size_t OpenFds(pid_t pid) {
  size_t n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ExhaustionTest : public SecurityTest {
 protected:
  // Leaves the daemon a few descriptors, then connects until it has none.
  void RunOutOfDescriptors() {
    pid_ = RawUnix()->PeerPid();
    ASSERT_GT(pid_, 0);
    const pid_t pid = pid_;
    ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, nullptr, &original_), 0);
    rlimit low = original_;
    low.rlim_cur = OpenFds(pid) + 4;
    ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, &low, nullptr), 0);
    for (int i = 0; i < kConnections; ++i) {
      crowd_.push_back(RawUnix());
      ASSERT_TRUE(crowd_.back()->connected());
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
    while (daemon().log().find("not accepting for") == std::string::npos) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon().log();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(kWatch);
  }
  void RestoreDescriptors() { ASSERT_EQ(prlimit(pid_, RLIMIT_NOFILE, &original_, nullptr), 0); }

  pid_t pid_ = -1;
  rlimit original_{};
  std::vector<std::unique_ptr<RawClient>> crowd_;
};

TEST_F(ExhaustionTest, OutOfDescriptorsTheDaemonBacksOffKeepsServingAndAcceptsAgain) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--accept-backoff-ms", "50"}));
  auto served = daemon().Connect();
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  RunOutOfDescriptors();
  EXPECT_LE(Count(daemon().log(), "accept on"), kMostAcceptLines) << daemon().log();
  EXPECT_TRUE((*served)->GetHealth().ok());
  RestoreDescriptors();
  // The backed-off listener accepts again: a new client is served.
  Result<std::unique_ptr<Client>> again = Status::Unavailable("not tried");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
  while (std::chrono::steady_clock::now() < deadline) {
    again = daemon().Connect();
    if (again.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  crowd_.clear();
}

TEST_F(ExhaustionTest, SigtermOutOfDescriptorsStillExits) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--accept-backoff-ms", "50"}));
  RunOutOfDescriptors();
  EXPECT_EQ(daemon().Stop(), 0) << daemon().last_exit() << "\n" << daemon().log();
  EXPECT_LE(Count(daemon().log(), "accept on"), kMostAcceptLines) << daemon().log();
}

}  // namespace
}  // namespace tierkv::testing
