// How long requests take in the daemon, per request type, as histograms with
// fixed buckets: counted on the event-loop thread with plain integers (no
// atomics, no locks), read by the metrics exporter through a snapshot taken
// on that same thread. Recording one request costs an array index and an
// add; the clock reads around it are the caller's (Session).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tierkv {

class RequestMetrics {
 public:
  // Upper bounds in seconds (le), from a loopback round trip to a full flush.
  static constexpr std::array<double, 14> kBucketBounds = {10e-6,  25e-6, 50e-6,  100e-6, 250e-6,
                                                           500e-6, 1e-3,  2.5e-3, 10e-3,  25e-3,
                                                           100e-3, 1.0,   10.0,   60.0};
  // Request types are small numbers (protocol/wire.h MessageType); anything
  // larger is counted as type 0 ("unknown").
  static constexpr size_t kMaxTypes = 32;

  struct Histogram {
    uint16_t type = 0;
    std::array<uint64_t, kBucketBounds.size() + 1> counts{};  // last: above every bound
    uint64_t count = 0;
    double sum_seconds = 0;
  };

  void Record(uint16_t type, double seconds);
  // The histograms of types seen so far.
  std::vector<Histogram> Snapshot() const;

 private:
  std::array<Histogram, kMaxTypes> by_type_{};
};

}  // namespace tierkv
