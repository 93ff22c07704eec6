// What a local client can do to the pool memory it was given: nothing that
// resizes it. The pool's memfd is sealed against shrinking and growing (an
// ftruncate by a client used to make the daemon fault with SIGBUS) and
// against further seals, and the daemon keeps serving whatever the client
// tried.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

constexpr int kFixedSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
constexpr off_t kGrowBytes = 1 << 20;

using PoolTest = SecurityTest;

TEST_F(PoolTest, AClientCannotResizeOrResealThePoolAndTheDaemonKeepsServing) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  auto attacker = RawAs(kGlobexToken);
  ASSERT_TRUE(attacker);
  ASSERT_TRUE(attacker->Open(SpecFor("globex")).ok());
  const std::vector<int>& fds = attacker->received_fds();
  ASSERT_FALSE(fds.empty()) << "a local client is given the pool's memfd";
  for (int fd : fds) {
    SCOPED_TRACE("fd " + std::to_string(fd));
    struct stat st {};
    ASSERT_EQ(fstat(fd, &st), 0);
    ASSERT_GT(st.st_size, 0);
    EXPECT_EQ(fcntl(fd, F_GET_SEALS) & kFixedSizeSeals, kFixedSizeSeals);
    for (const off_t size : {off_t{0}, st.st_size / 2, st.st_size + kGrowBytes}) {
      errno = 0;
      EXPECT_EQ(ftruncate(fd, size), -1) << "resized to " << size;
      EXPECT_EQ(errno, EPERM);
    }
    errno = 0;
    EXPECT_EQ(fallocate(fd, 0, st.st_size, kGrowBytes), -1) << "grown past its end";
    EXPECT_EQ(errno, EPERM);
    errno = 0;
    EXPECT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1) << "sealed against writes";
    EXPECT_EQ(errno, EPERM);
    struct stat after {};
    ASSERT_EQ(fstat(fd, &after), 0);
    EXPECT_EQ(after.st_size, st.st_size);
  }
  // The daemon serves on: acme stores and reads new blocks, byte-exact (and
  // TearDown reads every block stored before the attack).
  const Prompt fresh = MakePrompt(acme_.ns, 2, /*first=*/7000);
  const std::vector<std::byte> payload = Payload(acme_.ns, 2, 77);
  ASSERT_TRUE(acme_.client->Put(acme_.ns, acme_.ns.id, fresh.keys, fresh.tokens, payload).ok());
  std::vector<std::byte> out(payload.size());
  auto got = acme_.client->Get(acme_.ns, fresh.keys, fresh.tokens, out);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 2u);
  EXPECT_TRUE(out == payload);
}

}  // namespace
}  // namespace tierkv::testing
