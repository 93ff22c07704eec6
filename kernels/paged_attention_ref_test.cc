#include "kernels/paged_attention_ref.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/kv_cache_write_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

struct Case {
  int n_head, n_head_kv, head_dim, block_tokens, n_past, n_new;
};

// K and V of one sequence, contiguous [len][kv_dim], and the same rows in a
// shuffled page pool with two layers interleaved (we read layer 1).
class PagedFixture {
 public:
  PagedFixture(const Case& c, uint64_t seed) : c_(c), kv_dim_(c.n_head_kv * c.head_dim) {
    const int len = c.n_past + c.n_new;
    k_ = testing::RandomVector(static_cast<size_t>(len) * kv_dim_, seed);
    v_ = testing::RandomVector(static_cast<size_t>(len) * kv_dim_, seed + 1);
    const int n_blocks = (len + c.block_tokens - 1) / c.block_tokens;
    const int n_pages = n_blocks + 3;
    const int64_t layer_floats = 2LL * c.block_tokens * kv_dim_;
    pool_.assign(static_cast<size_t>(n_pages) * 2 * layer_floats, NAN);
    std::vector<int32_t> pages(n_pages);
    std::iota(pages.begin(), pages.end(), 0);
    std::reverse(pages.begin(), pages.end());
    table_.assign(pages.begin(), pages.begin() + n_blocks);
    layer_.k = pool_.data() + layer_floats;
    layer_.v = layer_.k + static_cast<int64_t>(c.block_tokens) * kv_dim_;
    layer_.page_stride = 2 * layer_floats;
    layer_.block_tokens = c.block_tokens;
    layer_.kv_dim = kv_dim_;
    KvCacheWriteRef(k_.data(), v_.data(), len, 0, table_.data(), layer_);
  }

  // Straightforward attention of query row `q` (one token at `pos`) for head h.
  void Reference(const float* q, int pos, int h, float scale, float* out) const {
    const int g = h / (c_.n_head / c_.n_head_kv);
    std::vector<double> s(pos + 1);
    double max = -1e300;
    for (int p = 0; p <= pos; ++p) {
      double dot = 0;
      for (int d = 0; d < c_.head_dim; ++d) {
        dot += q[d] * k_[static_cast<size_t>(p) * kv_dim_ + g * c_.head_dim + d];
      }
      s[p] = dot * scale;
      max = std::max(max, s[p]);
    }
    double sum = 0;
    for (double& x : s) sum += (x = std::exp(x - max));
    for (int d = 0; d < c_.head_dim; ++d) {
      double acc = 0;
      for (int p = 0; p <= pos; ++p) {
        acc += s[p] / sum * v_[static_cast<size_t>(p) * kv_dim_ + g * c_.head_dim + d];
      }
      out[d] = static_cast<float>(acc);
    }
  }

  const PagedKvLayer& layer() const { return layer_; }
  const std::vector<int32_t>& table() const { return table_; }

 private:
  Case c_;
  int kv_dim_;
  std::vector<float> k_, v_, pool_;
  std::vector<int32_t> table_;
  PagedKvLayer layer_;
};

class PagedAttentionTest : public ::testing::TestWithParam<Case> {};

TEST_P(PagedAttentionTest, PrefillMatchesReference) {
  const Case c = GetParam();
  PagedFixture f(c, 20);
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim,
                             1.0f / std::sqrt(static_cast<float>(c.head_dim))};
  const int q_dim = c.n_head * c.head_dim;
  auto q = testing::RandomVector(static_cast<size_t>(c.n_new) * q_dim, 30);
  std::vector<float> out(q.size());
  PagedAttentionPrefillRef(q.data(), c.n_new, c.n_past, f.table().data(), f.layer(), shape,
                           out.data());
  std::vector<float> expect(q.size());
  for (int t = 0; t < c.n_new; ++t) {
    for (int h = 0; h < c.n_head; ++h) {
      const size_t at = static_cast<size_t>(t) * q_dim + h * c.head_dim;
      f.Reference(q.data() + at, c.n_past + t, h, shape.scale, expect.data() + at);
    }
  }
  EXPECT_LT(testing::NormalizedError(out, expect), 1e-5);
}

TEST_P(PagedAttentionTest, DecodeMatchesReference) {
  const Case c = GetParam();
  PagedFixture f(c, 40);
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim,
                             1.0f / std::sqrt(static_cast<float>(c.head_dim))};
  const int q_dim = c.n_head * c.head_dim;
  // Two sequences sharing the pool: the full one and one a token shorter.
  const int max_blocks = static_cast<int>(f.table().size());
  std::vector<int32_t> tables = f.table();
  tables.insert(tables.end(), f.table().begin(), f.table().end());
  const int len = c.n_past + c.n_new;
  const int32_t lens[] = {len, std::max(1, len - 1)};
  auto q = testing::RandomVector(2 * q_dim, 50);
  std::vector<float> out(q.size());
  PagedAttentionDecodeRef(q.data(), 2, tables.data(), max_blocks, lens, f.layer(), shape,
                          out.data());
  std::vector<float> expect(q.size());
  for (int s = 0; s < 2; ++s) {
    for (int h = 0; h < c.n_head; ++h) {
      const size_t at = static_cast<size_t>(s) * q_dim + h * c.head_dim;
      f.Reference(q.data() + at, lens[s] - 1, h, shape.scale, expect.data() + at);
    }
  }
  EXPECT_LT(testing::NormalizedError(out, expect), 1e-5);
}

// The pool around the sequence's rows is NaN, so that a kernel reading a
// position it must not (past the context, another page, the other layer)
// turns its output NaN, which the error measure never lets pass. Proven here
// by a read one position past the context: the K/V row it touches lies in the
// last page, never written.
TEST(PagedAttentionFixtureTest, AReadPastTheContextIsCaught) {
  const Case c{4, 2, 16, 8, 0, 13};  // 13 tokens: the last page has 3 unwritten rows
  PagedFixture f(c, 60);
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim,
                             1.0f / std::sqrt(static_cast<float>(c.head_dim))};
  const int q_dim = c.n_head * c.head_dim;
  const int len = c.n_past + c.n_new;
  auto q = testing::RandomVector(q_dim, 70);
  std::vector<float> expect(q_dim);
  for (int h = 0; h < c.n_head; ++h) {
    f.Reference(q.data() + h * c.head_dim, len - 1, h, shape.scale, expect.data() + h * c.head_dim);
  }
  std::vector<float> out(q_dim);
  const int32_t exact = len;
  PagedAttentionDecodeRef(q.data(), 1, f.table().data(), static_cast<int>(f.table().size()), &exact,
                          f.layer(), shape, out.data());
  EXPECT_LT(testing::NormalizedError(out, expect), 1e-5);
  const int32_t one_too_many = len + 1;
  PagedAttentionDecodeRef(q.data(), 1, f.table().data(), static_cast<int>(f.table().size()),
                          &one_too_many, f.layer(), shape, out.data());
  EXPECT_EQ(testing::NormalizedError(out, expect), INFINITY);
}

INSTANTIATE_TEST_SUITE_P(Shapes, PagedAttentionTest,
                         ::testing::Values(Case{4, 4, 16, 4, 0, 9}, Case{8, 2, 16, 16, 0, 33},
                                           Case{4, 1, 32, 8, 24, 5}, Case{4, 2, 8, 4, 7, 300},
                                           Case{2, 2, 64, 16, 16, 16}));

}  // namespace
}  // namespace tierkv::kernels
