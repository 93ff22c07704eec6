#include "daemon/request_metrics.h"

#include <algorithm>

namespace tierkv {

void RequestMetrics::Record(uint16_t type, double seconds) {
  Histogram& h = by_type_[type < kMaxTypes ? type : 0];
  const size_t bucket =
      std::lower_bound(kBucketBounds.begin(), kBucketBounds.end(), seconds) - kBucketBounds.begin();
  ++h.counts[bucket];
  ++h.count;
  h.sum_seconds += seconds;
}

std::vector<RequestMetrics::Histogram> RequestMetrics::Snapshot() const {
  std::vector<Histogram> out;
  for (size_t type = 0; type < by_type_.size(); ++type) {
    if (by_type_[type].count == 0) continue;
    out.push_back(by_type_[type]);
    out.back().type = static_cast<uint16_t>(type);
  }
  return out;
}

}  // namespace tierkv
