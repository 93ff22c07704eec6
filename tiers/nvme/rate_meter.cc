#include "tiers/nvme/rate_meter.h"

namespace tierkv::nvme {

int64_t RateMeter::Tick(Clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) /
         kBucketWidth;
}

void RateMeter::Add(uint64_t bytes, Clock::time_point now) {
  const int64_t tick = Tick(now);
  const int i = int(tick % kBuckets);
  if (tick_[i] != tick) {
    tick_[i] = tick;
    bytes_[i] = 0;
  }
  bytes_[i] += bytes;
}

double RateMeter::BytesPerSecond(Clock::time_point now) const {
  const int64_t tick = Tick(now);
  uint64_t total = 0;
  for (int i = 0; i < kBuckets; ++i) {
    if (tick - tick_[i] < kBuckets) total += bytes_[i];
  }
  const double window_s = std::chrono::duration<double>(kBucketWidth).count() * kBuckets;
  return double(total) / window_s;
}

}  // namespace tierkv::nvme
