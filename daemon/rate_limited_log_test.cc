#include "daemon/rate_limited_log.h"

#include <gtest/gtest.h>

namespace tierkv {
namespace {

using std::chrono::seconds;

TEST(RateLimitedLogTest, LogsOncePerIntervalAndCountsWhatItHeldBack) {
  RateLimitedLog log(seconds(10));
  const auto t0 = RateLimitedLog::Clock::time_point{} + seconds(100);
  uint64_t suppressed = 99;
  EXPECT_TRUE(log.ShouldLog(t0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  for (int i = 1; i <= 5; ++i) EXPECT_FALSE(log.ShouldLog(t0 + seconds(i), &suppressed));
  EXPECT_TRUE(log.ShouldLog(t0 + seconds(10), &suppressed));
  EXPECT_EQ(suppressed, 5u);
  EXPECT_FALSE(log.ShouldLog(t0 + seconds(19), &suppressed));
  EXPECT_TRUE(log.ShouldLog(t0 + seconds(25), &suppressed));
  EXPECT_EQ(suppressed, 1u);
}

}  // namespace
}  // namespace tierkv
