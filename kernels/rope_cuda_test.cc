#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"
#include "kernels/rope.cuh"
#include "kernels/rope_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels::testing {
namespace {

// Both form the same float angle (RopeThetaScale's recurrence); what remains
// is an ulp or two from the device's sincosf and fused multiply-adds.
constexpr double kBound = 1e-5;

struct RopeShape {
  int n_tokens, n_heads, head_dim, row_stride, rot_dim, first_pos;
  float freq_base;
};

}  // namespace

std::vector<KernelCase> RopeCases() {
  const RopeShape shapes[] = {
      {1, 1, 64, 64, 64, 0, 10000.0f},
      {37, 32, 128, 32 * 128, 128, 5, 10000.0f},
      {16, 8, 128, 8 * 128 + 64, 64, 100, 500000.0f},  // partial rotation, padded rows
      {3, 4, 64, 256, 64, 131000, 1000000.0f},         // large positions
      {2, 2, 128, 256, 128, 1000000, 10000.0f},        // past any context in use
  };
  std::vector<KernelCase> cases;
  uint64_t seed = 1;
  for (const RopeShape& c : shapes) {
    const uint64_t s = seed++;
    cases.push_back({"rope " + std::to_string(c.n_tokens) + " tokens " + std::to_string(c.n_heads) +
                         "x" + std::to_string(c.head_dim) + " rot " + std::to_string(c.rot_dim) +
                         " pos " + std::to_string(c.first_pos) + " f32",
                     BoundFor(KvDtype::kF32, kBound), [c, s]() -> Result<CaseOutputs> {
                       CaseOutputs out;
                       out.reference =
                           RandomVector(static_cast<size_t>(c.n_tokens) * c.row_stride, s);
                       std::vector<int32_t> positions(c.n_tokens);
                       std::iota(positions.begin(), positions.end(), c.first_pos);
                       DeviceBuffer d_x = Upload(out.reference);
                       DeviceBuffer d_pos = Upload(positions);
                       RopeRef(out.reference.data(), positions.data(), c.n_tokens, c.n_heads,
                               c.head_dim, c.row_stride, c.rot_dim, c.freq_base);
                       TIERKV_RETURN_IF_ERROR(
                           RopeCuda(d_x.as<float>(), d_pos.as<int32_t>(), c.n_tokens, c.n_heads,
                                    c.head_dim, c.row_stride, c.rot_dim, c.freq_base, nullptr));
                       out.kernel = Download<float>(d_x, out.reference.size());
                       return out;
                     }});
  }
  return cases;
}

namespace {

TEST(RopeCudaTest, BadShapesAreInvalidArgument) {
  float dummy = 0.0f;
  int32_t pos = 0;
  EXPECT_TRUE(RopeCuda(&dummy, &pos, 1, 2, 64, 128, 63, 1e4f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RopeCuda(&dummy, &pos, 1, 2, 64, 128, 128, 1e4f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RopeCuda(&dummy, &pos, 1, 2, 64, 100, 64, 1e4f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RopeCuda(&dummy, &pos, 1, 2, 64, 128, 64, 0.0f, nullptr).IsInvalidArgument());
}

}  // namespace
}  // namespace tierkv::kernels::testing
