// PagedAttentionPrefillRef and PagedAttentionDecodeRef against a
// straightforward loop in every KV dtype are harness cases
// (kv_cases.cc, run by kernel_cases_test.cc). Here: that the harness's
// NaN-filled pool catches a kernel reading a row it must not.
#include "kernels/paged_attention_ref.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/kv_cases.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

using testing::DecodeInputs;

// Every row of the pool that no sequence wrote is NaN (in the dtype's own
// spelling), so that a read past the context, into another page or the other
// layer turns the output NaN, which the error measure never lets pass.
// Proven by a read one position past the context: the row it touches lies
// in the last page, never written.
TEST(PagedAttentionFixtureTest, AReadPastTheContextIsCaught) {
  for (KvDtype dtype : kAllKvDtypes) {
    SCOPED_TRACE(KvDtypeName(dtype));
    // 13 tokens in pages of 8: the last page has 3 unwritten rows.
    DecodeInputs in = testing::MakeDecodeInputs({4, 2, 32, 8, {13}}, dtype, 60);
    const std::vector<float> expect = testing::DecodeByLoop(in);
    EXPECT_LT(testing::NormalizedError(testing::DecodeByRef(in), expect), 1e-5);
    DecodeInputs one_too_many = in;
    one_too_many.spec.context_lens[0] += 1;
    EXPECT_EQ(testing::NormalizedError(testing::DecodeByRef(one_too_many), expect), INFINITY);
  }
}

}  // namespace
}  // namespace tierkv::kernels
