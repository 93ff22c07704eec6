#include "tiers/host/host_tier.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace tierkv {
namespace {

TEST(HostTierTest, SlotsOfOneClassDoNotOverlapAndKeepTheirBytes) {
  auto tier = HostTier::Create(8 << 20, 4 << 20);
  ASSERT_TRUE(tier.ok()) << tier.status().ToString();
  constexpr size_t kBytes = 100000;
  auto a = (*tier)->Allocate(kBytes);
  auto b = (*tier)->Allocate(kBytes);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size_class, b->size_class);
  EXPECT_GE(a->offset > b->offset ? a->offset - b->offset : b->offset - a->offset, kBytes);
  std::vector<std::byte> in(kBytes);
  for (size_t i = 0; i < in.size(); ++i) in[i] = std::byte(i * 7);
  std::memcpy((*tier)->At(a->offset), in.data(), kBytes);
  std::memset((*tier)->At(b->offset), 0xff, kBytes);
  EXPECT_EQ(std::memcmp((*tier)->At(a->offset), in.data(), kBytes), 0);
  EXPECT_EQ((*tier)->used_bytes(), 2 * 102400u);
}

TEST(HostTierTest, FullTierSaysResourceExhausted) {
  auto tier = HostTier::Create(1 << 20, 1 << 20);
  ASSERT_TRUE(tier.ok());
  ASSERT_TRUE((*tier)->Allocate(1 << 19).ok());
  ASSERT_TRUE((*tier)->Allocate(1 << 19).ok());
  EXPECT_TRUE((*tier)->Allocate(1 << 19).status().IsResourceExhausted());
  EXPECT_TRUE((*tier)->Allocate(2 << 20).status().IsInvalidArgument());
}

TEST(HostTierTest, TooSmallASlabIsNamedAsTheSlab) {
  auto tier = HostTier::Create(64 << 20, 1024);
  ASSERT_FALSE(tier.ok());
  EXPECT_NE(
      tier.status().message().find("slab size of 1024 bytes is smaller than one 4096-byte slot"),
      std::string::npos)
      << tier.status().ToString();
}

TEST(HostTierTest, FaultInReportsItsProgressToTheEnd) {
  std::vector<uint64_t> done;
  auto tier = HostTier::Create(256 << 20, 8 << 20, [&](uint64_t bytes, uint64_t total) {
    EXPECT_EQ(total, 256u << 20);
    done.push_back(bytes);
  });
  ASSERT_TRUE(tier.ok()) << tier.status().ToString();
  if ((*tier)->huge_pages()) GTEST_SKIP() << "huge pages are faulted in by mmap, unreported";
  ASSERT_FALSE(done.empty());
  EXPECT_EQ(done.back(), 256u << 20);
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end()));
}

TEST(HostTierTest, AnotherProcessSeesTheSameBytes) {
  auto tier = HostTier::Create(2 << 20);
  ASSERT_TRUE(tier.ok());
  auto slot = *(*tier)->Allocate(4096);
  pid_t pid = fork();
  if (pid == 0) {
    // The child maps the pool through its fd, as a client would, and writes.
    auto shm = SharedMemory::Map(dup((*tier)->fd()), (*tier)->pool_bytes());
    if (!shm.ok()) _exit(2);
    std::memset(shm->data() + slot.offset, 0x5a, 4096);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ((*tier)->At(slot.offset)[4095], std::byte{0x5a});
}

TEST(HostTierTest, MappingThatTouchesEveryPageKeepsTheBytesAsTheyAre) {
  auto tier = HostTier::Create(4 << 20, 1 << 20);
  ASSERT_TRUE(tier.ok());
  for (uint64_t i = 0; i < (*tier)->pool_bytes(); ++i) (*tier)->At(i)[0] = std::byte(i * 13 + 1);
  auto shm = SharedMemory::Map(dup((*tier)->fd()), (*tier)->pool_bytes(),
                               SharedMemory::Prefault::kTouchEveryPage);
  ASSERT_TRUE(shm.ok()) << shm.status().ToString();
  for (uint64_t i = 0; i < shm->size(); ++i) {
    ASSERT_EQ(shm->data()[i], std::byte(i * 13 + 1)) << "byte " << i;
  }
}

TEST(HostTierTest, RejectsPoolSmallerThanASlot) {
  EXPECT_TRUE(HostTier::Create(100).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tierkv
