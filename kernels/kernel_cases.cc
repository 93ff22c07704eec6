#include "kernels/kernel_cases.h"

namespace tierkv::kernels::testing {
namespace {

// Room the half types get over f32 (see BoundFor).
constexpr double kHalfTypeFactor = 5.0;

}  // namespace

double BoundFor(KvDtype dtype, double f32_bound) {
  return dtype == KvDtype::kF32 ? f32_bound : f32_bound * kHalfTypeFactor;
}

}  // namespace tierkv::kernels::testing
