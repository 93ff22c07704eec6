#include "tiers/nvme/uring_engine.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tiers/nvme/testing/fault_injection_io_engine.h"
#include "tiers/nvme/testing/temp_dir.h"
#include "tiers/nvme/testing/test_blocks.h"

namespace tierkv::nvme {
namespace {

using testing::FaultInjectionIoEngine;
using testing::IoOp;
using testing::TempDir;
using testing::TestPayload;

constexpr size_t kMaxIo = 64 * 1024;
constexpr uint64_t kFileBytes = 4 << 20;

class UringEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<UniqueFd> fd = DefaultFileSystem()->OpenDirect(dir_.Sub("file"), /*create=*/true);
    ASSERT_TRUE(fd.ok()) << fd.status().ToString();
    fd_ = std::move(fd).value();
    ASSERT_TRUE(DefaultFileSystem()->Allocate(fd_.get(), 0, kFileBytes).ok());
  }
  std::unique_ptr<UringEngine> Make(uint32_t depth,
                                    WriteDurability durability = WriteDurability::kDsync) {
    Result<std::unique_ptr<UringEngine>> e = UringEngine::Create({depth, kMaxIo, durability});
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }
  IoTarget At(uint64_t offset) const { return IoTarget{fd_.get(), offset}; }

  TempDir dir_;
  UniqueFd fd_;
};

TEST_F(UringEngineTest, WritesAndReadsBackByteExactInEveryDurabilityMode) {
  for (WriteDurability d : {WriteDurability::kNone, WriteDurability::kDsync,
                            WriteDurability::kFdatasync, WriteDurability::kGroupSync}) {
    auto engine = Make(2, d);
    EXPECT_TRUE(engine->buffers_registered());
    for (size_t len : {size_t{1}, size_t{4096}, size_t{5000}, kMaxIo}) {
      std::vector<std::byte> in = TestPayload(len, len), out(len);
      ASSERT_TRUE(WriteBlocking(*engine, At(kMaxIo), in.data(), len).ok());
      ASSERT_TRUE(ReadBlocking(*engine, At(kMaxIo), out.data(), len).ok());
      EXPECT_EQ(in, out) << "len " << len;
    }
  }
}

TEST_F(UringEngineTest, SyncsDoNotWaitForStagingBuffers) {
  auto engine = Make(1, WriteDurability::kGroupSync);
  std::vector<std::byte> in = TestPayload(5, kMaxIo);
  std::vector<int> order;
  engine->SubmitWrite(At(0), in.data(), in.size(), [&](Status s) { order.push_back(1); });
  engine->SubmitWrite(At(kMaxIo), in.data(), in.size(), [&](Status s) { order.push_back(2); });
  engine->SubmitSync(fd_.get(), [&](Status s) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    order.push_back(3);
  });
  EXPECT_EQ(engine->in_flight(), 2u);  // one write and the sync; one write waits
  while (engine->outstanding() > 0) engine->WaitAndReap();
  EXPECT_EQ(order.size(), 3u);
}

TEST_F(UringEngineTest, AlignedCallerBuffersSkipTheStagingCopyAndStayByteExact) {
  for (bool direct : {true, false}) {
    UringEngineOptions options{2, kMaxIo, WriteDurability::kDsync, direct};
    auto engine = std::move(UringEngine::Create(options)).value();
    auto* in = static_cast<std::byte*>(std::aligned_alloc(kIoAlignment, kMaxIo));
    auto* out = static_cast<std::byte*>(std::aligned_alloc(kIoAlignment, kMaxIo));
    std::vector<std::byte> want = TestPayload(direct, kMaxIo);
    std::memcpy(in, want.data(), kMaxIo);
    ASSERT_TRUE(WriteBlocking(*engine, At(0), in, kMaxIo).ok());
    std::memset(in, 0, kMaxIo);  // a direct write must not have read it later
    ASSERT_TRUE(ReadBlocking(*engine, At(0), out, kMaxIo).ok());
    EXPECT_EQ(std::memcmp(out, want.data(), kMaxIo), 0) << "direct " << direct;
    ASSERT_TRUE(ReadBlocking(*engine, At(0), out, 5000).ok());  // partial page: staged
    EXPECT_EQ(std::memcmp(out, want.data(), 5000), 0);
    std::free(in);
    std::free(out);
  }
}

TEST_F(UringEngineTest, PadsTheTailOfAShortWriteWithZeros) {
  auto engine = Make(2);
  std::vector<std::byte> ones(8192, std::byte{1}), in(100, std::byte{2}), out(8192);
  ASSERT_TRUE(WriteBlocking(*engine, At(0), ones.data(), ones.size()).ok());
  ASSERT_TRUE(WriteBlocking(*engine, At(0), in.data(), in.size()).ok());
  ASSERT_TRUE(ReadBlocking(*engine, At(0), out.data(), out.size()).ok());
  EXPECT_EQ(out[99], std::byte{2});
  EXPECT_EQ(out[100], std::byte{0});
  EXPECT_EQ(out[4095], std::byte{0});
  EXPECT_EQ(out[4096], std::byte{1});
}

TEST_F(UringEngineTest, KeepsManyRequestsInFlightAndQueuesTheRest) {
  constexpr uint32_t kDepth = 4;
  constexpr int kBlocks = 48;
  auto engine = Make(kDepth);
  std::vector<std::vector<std::byte>> in, out(kBlocks, std::vector<std::byte>(kMaxIo));
  for (int i = 0; i < kBlocks; ++i) in.push_back(TestPayload(i, kMaxIo));
  int done = 0;
  size_t max_in_flight = 0;
  for (int i = 0; i < kBlocks; ++i) {
    engine->SubmitWrite(At(i * kMaxIo), in[i].data(), kMaxIo, [&](Status s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++done;
    });
    max_in_flight = std::max(max_in_flight, engine->in_flight());
  }
  EXPECT_EQ(engine->outstanding(), size_t(kBlocks));
  EXPECT_EQ(max_in_flight, kDepth);
  while (done < kBlocks) engine->WaitAndReap();
  for (int i = 0; i < kBlocks; ++i) {
    engine->SubmitRead(At(i * kMaxIo), out[i].data(), kMaxIo, [&](Status s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++done;
    });
  }
  while (done < 2 * kBlocks) engine->WaitAndReap();
  EXPECT_EQ(engine->outstanding(), 0u);
  EXPECT_EQ(in, out);
}

TEST_F(UringEngineTest, EventFdTurnsReadableOnCompletionAndReapClearsIt) {
  auto engine = Make(2);
  std::vector<std::byte> in = TestPayload(1, 4096);
  bool done = false;
  engine->SubmitWrite(At(0), in.data(), in.size(), [&](Status s) { done = s.ok(); });
  pollfd p{engine->event_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  while (!done) engine->ReapCompletions();
  p.revents = 0;
  EXPECT_EQ(::poll(&p, 1, 0), 0);
}

TEST_F(UringEngineTest, BadRequestsFailThroughTheirCallback) {
  auto engine = Make(2);
  std::vector<std::byte> buf(kMaxIo + 1);
  EXPECT_TRUE(WriteBlocking(*engine, At(100), buf.data(), 10).IsInvalidArgument());
  EXPECT_TRUE(WriteBlocking(*engine, At(0), buf.data(), kMaxIo + 1).IsInvalidArgument());
  EXPECT_TRUE(ReadBlocking(*engine, At(0), buf.data(), 0).IsInvalidArgument());
  Status past_end = ReadBlocking(*engine, At(kFileBytes), buf.data(), 4096);
  EXPECT_TRUE(past_end.IsIOError()) << past_end.ToString();
}

TEST_F(UringEngineTest, InjectedFaultsFailOnlyTheChosenRequests) {
  FaultInjectionIoEngine engine(Make(2));
  std::vector<std::byte> in = TestPayload(3, 4096), out(4096);
  engine.InjectError(IoOp::kWrite, EIO, 1);
  Status s = WriteBlocking(engine, At(0), in.data(), in.size());
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  ASSERT_TRUE(WriteBlocking(engine, At(0), in.data(), in.size()).ok());
  engine.InjectError(IoOp::kRead, EIO, 1);
  EXPECT_TRUE(ReadBlocking(engine, At(0), out.data(), out.size()).IsIOError());
  ASSERT_TRUE(ReadBlocking(engine, At(0), out.data(), out.size()).ok());
  EXPECT_EQ(in, out);
  EXPECT_EQ(engine.injected_failures(), 2);
}

}  // namespace
}  // namespace tierkv::nvme
