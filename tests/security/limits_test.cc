// Limits a client cannot get past (issue 11): each test makes the attack
// against a real tierkvd and asserts that it fails with an error that names
// the limit; the fixture's TearDown checks that the blocks stored before it
// are still byte-exact.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

using wire::MessageType;

// Generous: the machines running the suite are loaded.
constexpr int kCloseDeadlineMs = 20000;
constexpr int kIdleTimeoutMs = 300;

using LimitsTest = SecurityTest;

TEST_F(LimitsTest, AFrameOverMaxFrameBytesIsRefusedBeforeItsBodyIsRead) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--max-frame-bytes", "1MiB"}));
  for (bool tcp : {false, true}) {
    auto raw = tcp ? RawTcp() : RawUnix();
    ASSERT_TRUE(raw->connected());
    ASSERT_TRUE(raw->Hello().ok());
    // The header alone claims 2 MiB; the body never comes.
    ASSERT_TRUE(raw->SendFrame(MessageType::kLookup, {}, 2u << 20));
    const RawReply reply = raw->ReadReply();
    EXPECT_EQ(reply.status.code(), StatusCode::kResourceExhausted) << reply.status.ToString();
    EXPECT_NE(reply.status.message().find("max_frame_bytes"), std::string::npos)
        << reply.status.ToString();
    EXPECT_TRUE(raw->ClosedByPeerWithin(kCloseDeadlineMs));
  }
  EXPECT_NE(daemon().log().find("max_frame_bytes"), std::string::npos);
}

TEST_F(LimitsTest, APartialFrameIsClosedAfterTheIdleTimeoutButAnIdleConnectionStays) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--frame-idle-timeout-ms", std::to_string(kIdleTimeoutMs)}));
  auto idle = RawUnix();
  ASSERT_TRUE(idle->Hello().ok());
  auto parker = RawTcp();
  ASSERT_TRUE(parker->Hello().ok());
  // Claims 200 KiB and sends 1000 bytes of it, then nothing.
  ASSERT_TRUE(parker->SendFrame(MessageType::kLookup, std::vector<uint8_t>(1000), 200 << 10));
  EXPECT_TRUE(parker->ClosedByPeerWithin(kCloseDeadlineMs));
  // The connection that sent whole frames only has been idle longer than the
  // timeout by now, and is still served.
  ASSERT_TRUE(idle->SendFrame(MessageType::kHealth, {}));
  EXPECT_TRUE(idle->ReadReply().status.ok());
  EXPECT_NE(daemon().log().find("frame_idle_timeout_ms"), std::string::npos);
}

TEST_F(LimitsTest, ConnectionsOverMaxConnectionsAreRefusedWithTheLimit) {
  constexpr int kMaxConnections = 4;
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--max-connections", std::to_string(kMaxConnections),
                                       "--frame-idle-timeout-ms", std::to_string(kIdleTimeoutMs)}));
  CloseVictimConnections();
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < kMaxConnections; ++i) {
    auto c = i % 2 ? daemon().ConnectTcp() : daemon().Connect();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    held.push_back(std::move(c).value());
  }
  for (bool tcp : {false, true}) {
    auto refused = tcp ? daemon().ConnectTcp() : daemon().Connect();
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(refused.status().message().find("max_connections"), std::string::npos)
        << refused.status().ToString();
  }
  // One over the limit that never says hello is closed too.
  auto silent = RawUnix();
  ASSERT_TRUE(silent->connected());
  EXPECT_TRUE(silent->ClosedByPeerWithin(kCloseDeadlineMs));
  // Those served are served, and a freed place is taken again.
  EXPECT_TRUE(held.back()->GetHealth().ok());
  held.pop_back();
  Result<std::unique_ptr<Client>> again = Status::Unavailable("not tried");
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kCloseDeadlineMs);
  while (std::chrono::steady_clock::now() < deadline) {
    again = daemon().Connect();
    if (again.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  held.clear();
}

}  // namespace
}  // namespace tierkv::testing
