#include "daemon/memory_check.h"

#include <gtest/gtest.h>

namespace tierkv {
namespace {

TEST(MemoryCheckTest, ReadsMemAvailableInKiB) {
  const std::string meminfo =
      "MemTotal:       24576000 kB\nMemFree:         1000000 kB\n"
      "MemAvailable:   23000000 kB\nBuffers:           12345 kB\n";
  EXPECT_EQ(ParseMemAvailable(meminfo), 23000000ull * 1024);
  EXPECT_EQ(ParseMemAvailable("MemTotal: 1 kB\n"), std::nullopt);
  EXPECT_TRUE(AvailableMemoryBytes().has_value());  // this machine's kernel has it
}

TEST(MemoryCheckTest, APoolLargerThanMemoryIsRefusedWithTheWayOut) {
  EXPECT_TRUE(CheckPoolFitsMemory(1ull << 30, 23ull << 30).ok());
  EXPECT_TRUE(CheckPoolFitsMemory(1ull << 30, std::nullopt).ok());
  Status s = CheckPoolFitsMemory(64ull << 30, 23ull << 30);
  EXPECT_TRUE(s.IsResourceExhausted());
  EXPECT_NE(s.message().find("64.0 GiB"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("23.0 GiB"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("--force-host-bytes"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tierkv
