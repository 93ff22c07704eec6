// RateMeter: bytes per second over the last second, for the tier's read and
// write bandwidth figures. Ten 100 ms buckets; a bucket older than the window
// is forgotten, so an idle tier reads 0.
//
// Thread safety: not thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace tierkv::nvme {

class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  void Add(uint64_t bytes, Clock::time_point now = Clock::now());
  double BytesPerSecond(Clock::time_point now = Clock::now()) const;

 private:
  static constexpr int kBuckets = 10;
  static constexpr std::chrono::milliseconds kBucketWidth{100};

  static int64_t Tick(Clock::time_point now);

  std::array<uint64_t, kBuckets> bytes_{};
  std::array<int64_t, kBuckets> tick_{};  // which 100 ms tick each bucket counts
};

}  // namespace tierkv::nvme
