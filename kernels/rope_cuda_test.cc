#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/rope.cuh"
#include "kernels/rope_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

using testing::Download;
using testing::NormalizedError;
using testing::RandomVector;
using testing::Upload;

// Both form the same float angle (RopeThetaScale's recurrence); what remains
// is an ulp or two from the device's sincosf and fused multiply-adds.
constexpr double kBound = 1e-5;

struct RopeCase {
  int n_tokens, n_heads, head_dim, row_stride, rot_dim, first_pos;
  float freq_base;
};

TEST(RopeCudaTest, MatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  const RopeCase cases[] = {
      {1, 1, 64, 64, 64, 0, 10000.0f},
      {37, 32, 128, 32 * 128, 128, 5, 10000.0f},
      {16, 8, 128, 8 * 128 + 64, 64, 100, 500000.0f},  // partial rotation, padded rows
      {3, 4, 64, 256, 64, 131000, 1000000.0f},         // large positions
  };
  uint64_t seed = 1;
  for (const RopeCase& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << c.n_tokens << " tokens, " << c.n_heads << " x " << c.head_dim << ", rot "
                 << c.rot_dim << ", pos " << c.first_pos);
    std::vector<float> x = RandomVector(static_cast<size_t>(c.n_tokens) * c.row_stride, seed++);
    std::vector<int32_t> positions(c.n_tokens);
    std::iota(positions.begin(), positions.end(), c.first_pos);
    DeviceBuffer d_x = Upload(x);
    DeviceBuffer d_pos = Upload(positions);
    RopeRef(x.data(), positions.data(), c.n_tokens, c.n_heads, c.head_dim, c.row_stride, c.rot_dim,
            c.freq_base);
    ASSERT_TRUE(RopeCuda(d_x.as<float>(), d_pos.as<int32_t>(), c.n_tokens, c.n_heads, c.head_dim,
                         c.row_stride, c.rot_dim, c.freq_base, nullptr)
                    .ok());
    EXPECT_LT(NormalizedError(Download<float>(d_x, x.size()), x), kBound);
  }
}

TEST(RopeCudaTest, BadShapesAreInvalidArgument) {
  float dummy = 0.0f;
  int32_t pos = 0;
  EXPECT_TRUE(RopeCuda(&dummy, &pos, 1, 2, 64, 128, 63, 1e4f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RopeCuda(&dummy, &pos, 1, 2, 64, 128, 128, 1e4f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RopeCuda(&dummy, &pos, 1, 2, 64, 100, 64, 1e4f, nullptr).IsInvalidArgument());
  EXPECT_TRUE(RopeCuda(&dummy, &pos, 1, 2, 64, 128, 64, 0.0f, nullptr).IsInvalidArgument());
}

}  // namespace
}  // namespace tierkv::kernels
