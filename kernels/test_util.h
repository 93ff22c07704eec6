// Helpers shared by the kernel and engine tests: seeded random inputs and the
// one error measure every kernel-vs-reference comparison uses.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace tierkv::kernels::testing {

inline std::vector<float> RandomVector(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// max |got - want| / max(max |want|, tiny): the normalized error
// test-backend-ops uses. Infinite when the sizes differ or when any value on
// either side is NaN or infinite: every output compared here is finite, and a
// comparison must never let a NaN through (a NaN compares false with
// everything, so folding it with max would score an all-NaN output 0).
inline double NormalizedError(std::span<const float> got, std::span<const float> want) {
  if (got.size() != want.size()) return INFINITY;
  double max_diff = 0.0;
  double max_ref = 1e-30;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i]) || !std::isfinite(want[i])) return INFINITY;
    const double diff = std::abs(static_cast<double>(got[i]) - want[i]);
    if (diff > max_diff) max_diff = diff;
    const double ref = std::abs(static_cast<double>(want[i]));
    if (ref > max_ref) max_ref = ref;
  }
  return max_diff / max_ref;
}

}  // namespace tierkv::kernels::testing
