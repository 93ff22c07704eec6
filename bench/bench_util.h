// Small measuring tools shared by tierkv's benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tierkv::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Latency samples in microseconds.
class Samples {
 public:
  void Add(double us) { v_.push_back(us); }
  double Percentile(double p) {
    if (v_.empty()) return 0;
    std::sort(v_.begin(), v_.end());
    const size_t i = std::min(v_.size() - 1, static_cast<size_t>(p / 100.0 * v_.size()));
    return v_[i];
  }
  size_t size() const { return v_.size(); }

 private:
  std::vector<double> v_;
};

// Single-thread memcpy bandwidth (GB/s) copying `blocks` distinct blocks of
// `block_bytes` from one buffer to another, both pre-faulted: the working set
// of the run being compared, so both figures come from main memory.
double MeasureMemcpyGbps(size_t block_bytes, size_t blocks, int passes = 3);

// Round trips of `message_bytes` over a fresh Unix stream socket pair to an
// echo process: the floor any request/reply to another process over such a
// socket pays.
Samples MeasureBareRoundTrips(size_t message_bytes, int iterations);

// Fills `out` with bytes derived from (seed, index), for verifiable payloads.
void FillPattern(uint64_t seed, uint64_t index, std::byte* out, size_t bytes);

}  // namespace tierkv::bench
