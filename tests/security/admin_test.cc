// Admin operations: over TCP they always need the admin token (with no token
// configured, as in the shipped config, no TCP client is admin); over the
// Unix socket the daemon's own uid and root are admin too, other uids are
// not. Wrong tokens are refused, logged and never silently downgraded.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

using wire::MessageType;

Status EvictAll(RawClient& raw) {
  wire::EvictRequest evict;
  evict.all = 1;
  return raw.Call(MessageType::kEvict, evict).status;
}

using AdminTest = SecurityTest;

TEST_F(AdminTest, TcpAdminOperationsNeedTheAdminToken) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  for (const char* token : {"", "guess", "admin-secret-toke", "admin-secret-tokenX"}) {
    SCOPED_TRACE(token);
    auto raw = RawAs("", token, /*tcp=*/true);
    ASSERT_TRUE(raw);
    EXPECT_EQ(EvictAll(*raw).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(raw->Call(MessageType::kFlush, std::vector<uint8_t>{}).status.code(),
              StatusCode::kPermissionDenied);
  }
  EXPECT_NE(daemon_->log().find("credentials refused: wrong admin token"), std::string::npos)
      << daemon_->log();
  // The right token is admin (flush: an admin operation that keeps every block).
  auto admin = RawAs("", kAdminToken, /*tcp=*/true);
  ASSERT_TRUE(admin);
  EXPECT_TRUE(admin->Call(MessageType::kFlush, std::vector<uint8_t>{}).status.ok());
}

TEST_F(AdminTest, UnixPeersOfAnotherUidAreNotAdmin) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  const passwd* nobody = getpwnam("nobody");
  if (!nobody) GTEST_SKIP() << "no user 'nobody' on this machine";
  // Let the other uid reach the socket, as a group member would.
  ASSERT_EQ(chmod(daemon_->dir().c_str(), 0755), 0);
  ASSERT_EQ(chmod(daemon_->socket_path().c_str(), 0666), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Exit codes: 0 refused as it must be, 1 setup failed, 2 evict was allowed.
    if (setgid(nobody->pw_gid) != 0 || setuid(nobody->pw_uid) != 0) _exit(1);
    RawClient raw(daemon_->socket_path());
    if (!raw.connected() || !raw.Hello().ok()) _exit(1);
    _exit(EvictAll(raw).code() == StatusCode::kPermissionDenied ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the child could not connect; 2: evict was allowed";
  // The daemon's own user (root here) is admin without a token.
  auto own = RawAs("");
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->Call(MessageType::kFlush, std::vector<uint8_t>{}).status.ok());
}

using NoAdminTokenTest = SecurityTest;

TEST_F(NoAdminTokenTest, NoTcpClientIsAdminAndTheDaemonSaysSo) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}, AdminToken::kNone));
  for (const char* token : {"", "anything"}) {
    auto raw = RawAs("", token, /*tcp=*/true);
    ASSERT_TRUE(raw);
    EXPECT_EQ(EvictAll(*raw).code(), StatusCode::kPermissionDenied);
  }
  EXPECT_NE(daemon_->log().find("without an admin token"), std::string::npos) << daemon_->log();
}

}  // namespace
}  // namespace tierkv::testing
