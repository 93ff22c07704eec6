// tierkvd's start-up as an operator meets it: what is checked before the pool
// is faulted in (a busy port, a live socket, a locked data dir, too little
// memory), what it logs meanwhile, what systemd hears, and --check-config.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "daemon/memory_check.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/run_command.h"

namespace tierkv::testing {
namespace {

// Every line the host tier logs starts so; none may come before a refusal.
constexpr std::string_view kFaultInLine = "host tier:";
constexpr int kNotifyWaitMillis = 20000;

std::string Tierkvd() { return BinDir() + "/tierkvd"; }

// A TCP port held busy by this test.
class BusyPort {
 public:
  BusyPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 1);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~BusyPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(StartupTest, ABusyPortIsReportedBeforeThePoolIsFaultedIn) {
  BusyPort busy;
  DaemonProcess daemon({"--tcp", "127.0.0.1:" + std::to_string(busy.port())});
  EXPECT_FALSE(daemon.Start());
  const std::string log = daemon.log();
  EXPECT_NE(log.find("Address already in use"), std::string::npos) << log;
  EXPECT_EQ(log.find(kFaultInLine), std::string::npos) << log;
}

TEST(StartupTest, ALiveSocketIsReportedBeforeThePoolIsFaultedIn) {
  DaemonProcess first;
  ASSERT_TRUE(first.Start()) << first.log();
  DaemonProcess second({"--socket", first.socket_path()});
  EXPECT_FALSE(second.Start());
  const std::string log = second.log();
  EXPECT_NE(log.find("another daemon is already serving " + first.socket_path()), std::string::npos)
      << log;
  EXPECT_EQ(log.find(kFaultInLine), std::string::npos) << log;
}

TEST(StartupTest, ALockedDataDirSaysAnotherTierkvdHoldsIt) {
  DaemonProcess first;
  ASSERT_TRUE(first.Start()) << first.log();
  DaemonProcess second({"--data-dir", first.dir() + "/data"});
  EXPECT_FALSE(second.Start());
  const std::string log = second.log();
  EXPECT_NE(log.find("another tierkvd (pid "), std::string::npos) << log;
  EXPECT_NE(log.find("holds the data dir " + first.dir() + "/data"), std::string::npos) << log;
  EXPECT_EQ(log.find("LOCK"), std::string::npos) << log;  // not RocksDB's words
  EXPECT_EQ(log.find(kFaultInLine), std::string::npos) << log;
  // The first one is unharmed.
  auto client = first.Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE((*client)->GetHealth().ok());
}

TEST(StartupTest, APoolLargerThanMemoryIsRefusedUnlessForced) {
  const auto available = AvailableMemoryBytes();
  ASSERT_TRUE(available.has_value());
  const std::string too_much = std::to_string(*available * 2);
  DaemonProcess daemon({"--host-bytes", too_much});
  EXPECT_FALSE(daemon.Start());
  const std::string log = daemon.log();
  EXPECT_NE(log.find("of memory available now"), std::string::npos) << log;
  EXPECT_NE(log.find("--force-host-bytes"), std::string::npos) << log;
  EXPECT_EQ(log.find(kFaultInLine), std::string::npos) << log;
  // --check-config gives the same verdict, and forcing passes it (starting
  // for real would fault in more memory than the machine has).
  auto checked = RunCommand({Tierkvd(), "--check-config", "--host-bytes", too_much});
  EXPECT_EQ(checked.exit_code, 2);
  EXPECT_NE(checked.err.find("of memory available now"), std::string::npos) << checked.err;
  auto forced =
      RunCommand({Tierkvd(), "--check-config", "--host-bytes", too_much, "--force-host-bytes"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
}

TEST(StartupTest, TheFaultInIsLogged) {
  DaemonProcess daemon({"--host-bytes", "64MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  const std::string log = daemon.log();
  EXPECT_NE(log.find("host tier: faulting in 64.0 MiB of shared pool"), std::string::npos) << log;
  EXPECT_NE(log.find("faulted in in"), std::string::npos) << log;
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // The next message, or "" after kNotifyWaitMillis.
  std::string Next() {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, kNotifyWaitMillis) != 1) return "";
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(StartupTest, SystemdHearsReadyOnceTheSocketsListenAndStoppingAtShutdown) {
  DaemonProcess daemon;
  NotifySocket notify(daemon.dir() + "/notify.sock");
  ASSERT_TRUE(notify.bound());
  setenv("NOTIFY_SOCKET", (daemon.dir() + "/notify.sock").c_str(), 1);
  // Once READY=1 arrives a client must get in at the first try.
  std::string ready;
  Status first_try = Status::Internal("not tried");
  std::thread watcher([&] {
    ready = notify.Next();
    auto client = daemon.Connect();
    first_try = client.ok() ? (*client)->GetHealth().status() : client.status();
  });
  const bool started = daemon.Start();
  watcher.join();
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(started) << daemon.log();
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  EXPECT_NE(ready.find("STATUS=serving on unix " + daemon.socket_path()), std::string::npos)
      << ready;
  EXPECT_TRUE(first_try.ok()) << first_try.ToString();
  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_NE(notify.Next().find("STOPPING=1"), std::string::npos);
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

TEST(StartupTest, CheckConfigValidatesPrintsAndExits) {
  DaemonProcess scratch;  // for its directory only
  const std::string good = WriteFile(scratch.dir() + "/good.toml",
                                     "host_bytes = \"1.5 GiB\"\nadmin_token = \"s3cret\"\n");
  auto ok = RunCommand({Tierkvd(), "--check-config", "--config", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("host_bytes = \"1536 MiB\"  # " + good + ":1"), std::string::npos)
      << ok.out;
  EXPECT_NE(ok.out.find("config OK"), std::string::npos) << ok.out;
  EXPECT_EQ(ok.out.find("s3cret"), std::string::npos) << ok.out;

  const std::string bad =
      WriteFile(scratch.dir() + "/bad.toml", "socket = \"/tmp/x.sock\"\nnvme_sync_index = 1\n");
  auto refused = RunCommand({Tierkvd(), "--check-config", "--config", bad});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find(bad + ":2: nvme_sync_index: must be true or false"), std::string::npos)
      << refused.err;
}

TEST(StartupTest, AnUnknownLogLevelIsRefusedNotSilent) {
  for (const char* level : {"verbose", "loud"}) {
    auto r = RunCommand({Tierkvd(), "--check-config", "--log-level", level});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("is not a log level (one of trace, debug, info, warn, error, critical, "
                         "off)"),
              std::string::npos)
        << r.err;
  }
  // Level names in any case; at warn the info lines are gone, errors stay.
  DaemonProcess quiet({"--log-level", "WARN"});
  ASSERT_TRUE(quiet.Start()) << quiet.log();
  EXPECT_EQ(quiet.log().find("tierkvd ready"), std::string::npos) << quiet.log();
  DaemonProcess refused({"--log-level", "Warn", "--data-dir", quiet.dir() + "/data"});
  EXPECT_FALSE(refused.Start());
  EXPECT_NE(refused.log().find("another tierkvd"), std::string::npos) << refused.log();
}

TEST(StartupTest, TheDaemonAndTheCliReportOneVersion) {
  auto daemon = RunCommand({Tierkvd(), "--version"});
  auto cli = RunCommand({BinDir() + "/tierkv", "--version"});
  EXPECT_EQ(daemon.exit_code, 0);
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  ASSERT_EQ(daemon.out.rfind("tierkvd ", 0), 0u) << daemon.out;
  ASSERT_EQ(cli.out.rfind("tierkv ", 0), 0u) << cli.out;
  EXPECT_EQ(daemon.out.substr(8), cli.out.substr(7));
}

}  // namespace
}  // namespace tierkv::testing
