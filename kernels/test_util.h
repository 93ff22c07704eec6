// Helpers shared by the kernel tests: seeded random inputs and error measures.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace tierkv::kernels::testing {

inline std::vector<float> RandomVector(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// max |a - b| / max(max |b|, tiny): the normalized error test-backend-ops uses.
inline double NormalizedError(const std::vector<float>& a, const std::vector<float>& b) {
  double max_diff = 0.0;
  double max_ref = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(static_cast<double>(a[i]) - b[i]));
    max_ref = std::max(max_ref, std::abs(static_cast<double>(b[i])));
  }
  return a.size() == b.size() ? max_diff / max_ref : INFINITY;
}

}  // namespace tierkv::kernels::testing
