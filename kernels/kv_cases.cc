#include "kernels/kv_cases.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>

#include "kernels/half.h"
#include "kernels/kernel_cases.h"
#include "kernels/kv_block_copy_ref.h"
#include "kernels/kv_cache_write_ref.h"
#include "kernels/quant_blocks.h"
#include "kernels/test_util.h"

namespace tierkv::kernels::testing {
namespace {

constexpr uint16_t kF16Nan = 0x7e00;
constexpr uint16_t kBf16Nan = 0x7fc0;
constexpr float kQ8Max = 127.0f;

std::vector<std::byte> RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> v(n);
  for (std::byte& b : v) b = static_cast<std::byte>(rng());
  return v;
}

void Put16(std::byte* at, uint16_t bits) { std::memcpy(at, &bits, sizeof(bits)); }

uint16_t Get16(const std::byte* at) {
  uint16_t bits;
  std::memcpy(&bits, at, sizeof(bits));
  return bits;
}

// The value's bytes in `dtype`, one value (or one q8_0 block of 32) at a
// time, written as plainly as possible.
void LoopStore(KvDtype dtype, const float* x, int n, std::byte* out) {
  switch (dtype) {
    case KvDtype::kF32:
      std::memcpy(out, x, sizeof(float) * n);
      return;
    case KvDtype::kF16:
      for (int i = 0; i < n; ++i) Put16(out + 2 * i, F32ToF16(x[i]));
      return;
    case KvDtype::kBf16:
      for (int i = 0; i < n; ++i) Put16(out + 2 * i, F32ToBf16(x[i]));
      return;
    case KvDtype::kQ8_0:
      for (int b = 0; b < n / kQ8_0BlockValues; ++b) {
        const float* v = x + b * kQ8_0BlockValues;
        std::byte* block = out + b * sizeof(BlockQ8_0);
        float amax = 0.0f;
        for (int i = 0; i < kQ8_0BlockValues; ++i) amax = std::max(amax, std::fabs(v[i]));
        const float id = amax != 0.0f ? kQ8Max / amax : 0.0f;
        Put16(block, F32ToF16(amax / kQ8Max));
        for (int i = 0; i < kQ8_0BlockValues; ++i) {
          const auto q = static_cast<int8_t>(std::nearbyint(v[i] * id));  // ties to even
          std::memcpy(block + sizeof(uint16_t) + i, &q, 1);
        }
      }
      return;
  }
}

// One head's attention output at `pos` (head_dim values into `out`), in
// double precision: scores over positions 0..pos, softmax, weighted V sum.
void AttentionLoop(const KvPool& pool, const int32_t* table, const float* q, int pos, int kv_head,
                   int head_dim, float scale, float* out, std::vector<double>& scores) {
  scores.assign(pos + 1, 0.0);
  double max = -1e300;
  for (int p = 0; p <= pos; ++p) {
    double dot = 0;
    for (int d = 0; d < head_dim; ++d) {
      dot += static_cast<double>(q[d]) * pool.LoopValue(false, table, p, kv_head * head_dim + d);
    }
    scores[p] = dot * scale;
    max = std::max(max, scores[p]);
  }
  double sum = 0;
  for (double& s : scores) sum += (s = std::exp(s - max));
  for (int d = 0; d < head_dim; ++d) {
    double acc = 0;
    for (int p = 0; p <= pos; ++p) {
      acc += scores[p] / sum * pool.LoopValue(true, table, p, kv_head * head_dim + d);
    }
    out[d] = static_cast<float>(acc);
  }
}

// One query row (all heads) of attention at `pos`, by the loop above.
void AttentionRowByLoop(const KvPool& pool, const int32_t* table, const AttentionShape& shape,
                        const float* q, int pos, float* out) {
  std::vector<double> scores;
  const int group = shape.n_head / shape.n_head_kv;
  for (int h = 0; h < shape.n_head; ++h) {
    AttentionLoop(pool, table, q + h * shape.head_dim, pos, h / group, shape.head_dim, shape.scale,
                  out + h * shape.head_dim, scores);
  }
}

// Writes random K/V rows for positions [0, len) through `table`.
void FillSequence(KvPool& pool, const std::vector<int32_t>& table, int len, uint64_t seed) {
  const std::vector<float> k = RandomVector(static_cast<size_t>(len) * pool.kv_dim, seed);
  const std::vector<float> v = RandomVector(static_cast<size_t>(len) * pool.kv_dim, seed + 1);
  KvCacheWriteRef(k.data(), v.data(), len, 0, table.data(), pool.Layer());
}

std::string DtypeName(KvDtype dtype) { return std::string(KvDtypeName(dtype)); }

}  // namespace

KvPool::KvPool(int n_pages, int block_tokens, int kv_dim, KvDtype dtype, Fill fill, uint64_t seed)
    : block_tokens(block_tokens),
      kv_dim(kv_dim),
      dtype(dtype),
      row_bytes(KvRowBytes(dtype, kv_dim)),
      page_bytes(2 * block_tokens * row_bytes) {
  const size_t n_bytes = page_bytes * n_pages;
  if (fill == Fill::kRandom) {
    bytes = RandomBytes(n_bytes, seed);
  } else {
    bytes.resize(n_bytes);
    const size_t step = dtype == KvDtype::kQ8_0 ? sizeof(BlockQ8_0) : KvUnitBytes(dtype);
    for (size_t at = 0; at < n_bytes; at += step) {
      if (dtype == KvDtype::kF32) {
        const float nan = NAN;
        std::memcpy(&bytes[at], &nan, sizeof(nan));
      } else {
        Put16(&bytes[at], dtype == KvDtype::kBf16 ? kBf16Nan : kF16Nan);
      }
    }
  }
  free_pages_.resize(n_pages);
  std::iota(free_pages_.begin(), free_pages_.end(), 0);
  std::shuffle(free_pages_.begin(), free_pages_.end(), std::mt19937(seed));
}

std::vector<int32_t> KvPool::TakePages(int n) {
  std::vector<int32_t> pages(free_pages_.end() - n, free_pages_.end());
  free_pages_.resize(free_pages_.size() - n);
  return pages;
}

PagedKv KvPool::Layer(void* base) const {
  auto* k = static_cast<std::byte*>(base);
  return {k,
          k + block_tokens * row_bytes,
          static_cast<int64_t>(page_bytes / KvUnitBytes(dtype)),
          block_tokens,
          kv_dim,
          dtype};
}

float KvPool::LoopValue(bool v, const int32_t* table, int pos, int i) const {
  const size_t row = table[pos / block_tokens] * page_bytes + (v ? block_tokens * row_bytes : 0) +
                     (pos % block_tokens) * row_bytes;
  const std::byte* at = bytes.data() + row;
  switch (dtype) {
    case KvDtype::kF32: {
      float x;
      std::memcpy(&x, at + sizeof(float) * i, sizeof(x));
      return x;
    }
    case KvDtype::kF16:
      return F16ToF32(Get16(at + 2 * i));
    case KvDtype::kBf16:
      return Bf16ToF32(Get16(at + 2 * i));
    case KvDtype::kQ8_0: {
      const std::byte* block = at + (i / kQ8_0BlockValues) * sizeof(BlockQ8_0);
      int8_t q;
      std::memcpy(&q, block + sizeof(uint16_t) + i % kQ8_0BlockValues, 1);
      return F16ToF32(Get16(block)) * static_cast<float>(q);
    }
  }
  return NAN;
}

int BlocksFor(int tokens, int block_tokens) { return (tokens + block_tokens - 1) / block_tokens; }

AttentionShape MakeAttentionShape(int n_head, int n_head_kv, int head_dim) {
  return {n_head, n_head_kv, head_dim, 1.0f / std::sqrt(static_cast<float>(head_dim))};
}

PrefillInputs MakePrefillInputs(const PrefillSpec& s, KvDtype dtype, uint64_t seed) {
  const int len = s.n_past + s.n_new;
  const int n_blocks = BlocksFor(len, s.block_tokens);
  PrefillInputs in{s,
                   MakeAttentionShape(s.n_head, s.n_head_kv, s.head_dim),
                   KvPool(n_blocks + 3, s.block_tokens, s.n_head_kv * s.head_dim, dtype,
                          KvPool::Fill::kNan, seed),
                   {},
                   RandomVector(static_cast<size_t>(s.n_new) * s.n_head * s.head_dim, seed + 1)};
  in.table = in.pool.TakePages(n_blocks);
  FillSequence(in.pool, in.table, len, seed + 2);
  return in;
}

std::vector<float> PrefillByRef(PrefillInputs& in) {
  std::vector<float> out(in.q.size());
  PagedAttentionPrefillRef(in.q.data(), in.spec.n_new, in.spec.n_past, in.table.data(),
                           in.pool.Layer(), in.shape, out.data());
  return out;
}

std::vector<float> PrefillByLoop(const PrefillInputs& in) {
  std::vector<float> out(in.q.size());
  const size_t row = static_cast<size_t>(in.shape.n_head) * in.shape.head_dim;
  for (int t = 0; t < in.spec.n_new; ++t) {
    AttentionRowByLoop(in.pool, in.table.data(), in.shape, in.q.data() + t * row,
                       in.spec.n_past + t, out.data() + t * row);
  }
  return out;
}

DecodeInputs MakeDecodeInputs(const DecodeSpec& s, KvDtype dtype, uint64_t seed) {
  const int n_seqs = static_cast<int>(s.context_lens.size());
  const int max_len = *std::max_element(s.context_lens.begin(), s.context_lens.end());
  int total_blocks = 0;
  for (int len : s.context_lens) total_blocks += BlocksFor(len, s.block_tokens);
  DecodeInputs in{s,
                  MakeAttentionShape(s.n_head, s.n_head_kv, s.head_dim),
                  KvPool(total_blocks + 2, s.block_tokens, s.n_head_kv * s.head_dim, dtype,
                         KvPool::Fill::kNan, seed),
                  BlocksFor(max_len, s.block_tokens),
                  {},
                  RandomVector(static_cast<size_t>(n_seqs) * s.n_head * s.head_dim, seed + 1)};
  in.tables.assign(static_cast<size_t>(n_seqs) * in.max_blocks, -1);
  for (int i = 0; i < n_seqs; ++i) {
    const std::vector<int32_t> pages =
        in.pool.TakePages(BlocksFor(s.context_lens[i], s.block_tokens));
    FillSequence(in.pool, pages, s.context_lens[i], seed + 2 + 2 * i);
    std::copy(pages.begin(), pages.end(), in.tables.begin() + i * in.max_blocks);
  }
  return in;
}

std::vector<float> DecodeByRef(DecodeInputs& in) {
  std::vector<float> out(in.q.size());
  const std::vector<int32_t> lens(in.spec.context_lens.begin(), in.spec.context_lens.end());
  PagedAttentionDecodeRef(in.q.data(), static_cast<int>(lens.size()), in.tables.data(),
                          in.max_blocks, lens.data(), in.pool.Layer(), in.shape, out.data());
  return out;
}

std::vector<float> DecodeByLoop(const DecodeInputs& in) {
  std::vector<float> out(in.q.size());
  const size_t row = static_cast<size_t>(in.shape.n_head) * in.shape.head_dim;
  for (size_t s = 0; s < in.spec.context_lens.size(); ++s) {
    AttentionRowByLoop(in.pool, in.tables.data() + s * in.max_blocks, in.shape,
                       in.q.data() + s * row, in.spec.context_lens[s] - 1, out.data() + s * row);
  }
  return out;
}

KvWriteInputs MakeKvWriteInputs(const KvWriteSpec& s, KvDtype dtype, uint64_t seed) {
  const int n_blocks = BlocksFor(s.first_pos + s.n_tokens, s.block_tokens);
  KvWriteInputs in{
      s,
      KvPool(n_blocks + 2, s.block_tokens, s.kv_dim, dtype, KvPool::Fill::kRandom, seed),
      {},
      RandomVector(static_cast<size_t>(s.n_tokens) * s.kv_dim, seed + 1),
      RandomVector(static_cast<size_t>(s.n_tokens) * s.kv_dim, seed + 2)};
  in.table = in.pool.TakePages(n_blocks);
  return in;
}

std::vector<std::byte> KvWriteByRef(KvWriteInputs in) {
  KvCacheWriteRef(in.k.data(), in.v.data(), in.spec.n_tokens, in.spec.first_pos, in.table.data(),
                  in.pool.Layer());
  return in.pool.bytes;
}

std::vector<std::byte> KvWriteByLoop(KvWriteInputs in) {
  KvPool& pool = in.pool;
  for (int t = 0; t < in.spec.n_tokens; ++t) {
    const int pos = in.spec.first_pos + t;
    std::byte* k_row = pool.bytes.data() + in.table[pos / pool.block_tokens] * pool.page_bytes +
                       (pos % pool.block_tokens) * pool.row_bytes;
    LoopStore(pool.dtype, in.k.data() + t * pool.kv_dim, pool.kv_dim, k_row);
    LoopStore(pool.dtype, in.v.data() + t * pool.kv_dim, pool.kv_dim,
              k_row + pool.block_tokens * pool.row_bytes);
  }
  return pool.bytes;
}

BlockCopyInputs MakeBlockCopyInputs(const BlockCopySpec& s, uint64_t seed) {
  const int n_pages = s.n_blocks + 5;
  BlockCopyInputs in{s,
                     RandomBytes(s.page_bytes * n_pages, seed),
                     {},
                     RandomBytes(s.page_bytes * s.n_blocks, seed + 1)};
  in.pages.resize(n_pages);
  std::iota(in.pages.begin(), in.pages.end(), 0);
  std::shuffle(in.pages.begin(), in.pages.end(), std::mt19937(seed));
  in.pages.resize(s.n_blocks);
  return in;
}

std::vector<std::byte> GatherByLoop(const BlockCopyInputs& in) {
  std::vector<std::byte> staging(in.spec.page_bytes * in.spec.n_blocks);
  for (int i = 0; i < in.spec.n_blocks; ++i) {
    for (size_t b = 0; b < in.spec.page_bytes; ++b) {
      staging[i * in.spec.page_bytes + b] = in.pool[in.pages[i] * in.spec.page_bytes + b];
    }
  }
  return staging;
}

std::vector<std::byte> ScatterByLoop(const BlockCopyInputs& in) {
  std::vector<std::byte> pool = in.pool;
  for (int i = 0; i < in.spec.n_blocks; ++i) {
    for (size_t b = 0; b < in.spec.page_bytes; ++b) {
      pool[in.pages[i] * in.spec.page_bytes + b] = in.staging[i * in.spec.page_bytes + b];
    }
  }
  return pool;
}

std::vector<float> BytesAsFloats(std::span<const std::byte> bytes) {
  std::vector<float> out(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<float>(bytes[i]);
  return out;
}

// The CPU side of the harness: every reference in every dtype against the
// loops above. Shapes are small enough for a double-precision loop.
namespace {

// The CPU reference and the loop read the same stored values; only f32
// summation order differs.
constexpr double kAttentionRefBound = 1e-5;

}  // namespace

std::vector<KernelCase> PagedAttentionRefCases() {
  const PrefillSpec prefills[] = {
      {4, 4, 32, 4, 0, 9},   {8, 2, 32, 16, 0, 33},  {4, 1, 32, 8, 24, 5},
      {4, 2, 32, 4, 7, 300}, {2, 2, 64, 16, 16, 16}, {8, 2, 64, 16, 15, 17},
  };
  const DecodeSpec decodes[] = {
      {4, 4, 32, 4, {9}},
      {8, 2, 64, 16, {16, 17, 15, 1}},
      {4, 1, 32, 8, {300, 29}},
  };
  std::vector<KernelCase> cases;
  uint64_t seed = 100;
  for (KvDtype dtype : kAllKvDtypes) {
    for (const PrefillSpec& s : prefills) {
      const uint64_t sd = seed++;
      cases.push_back({"prefill ref " + std::to_string(s.n_head) + "/" +
                           std::to_string(s.n_head_kv) + "x" + std::to_string(s.head_dim) + " bt" +
                           std::to_string(s.block_tokens) + " " + std::to_string(s.n_past) + "+" +
                           std::to_string(s.n_new) + " " + DtypeName(dtype),
                       kAttentionRefBound, [s, dtype, sd]() -> Result<CaseOutputs> {
                         PrefillInputs in = MakePrefillInputs(s, dtype, sd);
                         return CaseOutputs{PrefillByRef(in), PrefillByLoop(in)};
                       }});
    }
    for (const DecodeSpec& s : decodes) {
      const uint64_t sd = seed++;
      cases.push_back({"decode ref " + std::to_string(s.n_head) + "/" +
                           std::to_string(s.n_head_kv) + "x" + std::to_string(s.head_dim) +
                           " seqs" + std::to_string(s.context_lens.size()) + " " + DtypeName(dtype),
                       kAttentionRefBound, [s, dtype, sd]() -> Result<CaseOutputs> {
                         DecodeInputs in = MakeDecodeInputs(s, dtype, sd);
                         return CaseOutputs{DecodeByRef(in), DecodeByLoop(in)};
                       }});
    }
  }
  return cases;
}

std::vector<KernelCase> KvCacheWriteRefCases() {
  const KvWriteSpec specs[] = {
      {3 * 32, 2, 1, 3}, {8 * 128, 16, 0, 1}, {8 * 128, 16, 15, 2}, {4 * 64, 16, 3, 50}};
  std::vector<KernelCase> cases;
  uint64_t seed = 300;
  for (KvDtype dtype : kAllKvDtypes) {
    for (const KvWriteSpec& s : specs) {
      const uint64_t sd = seed++;
      cases.push_back(
          {"kv write ref " + std::to_string(s.kv_dim) + " bt" + std::to_string(s.block_tokens) +
               " " + std::to_string(s.first_pos) + "+" + std::to_string(s.n_tokens) + " " +
               DtypeName(dtype),
           0.0, [s, dtype, sd]() -> Result<CaseOutputs> {
             const KvWriteInputs in = MakeKvWriteInputs(s, dtype, sd);
             return CaseOutputs{BytesAsFloats(KvWriteByRef(in)), BytesAsFloats(KvWriteByLoop(in))};
           }});
    }
  }
  return cases;
}

std::vector<KernelCase> KvBlockCopyRefCases() {
  std::vector<KernelCase> cases;
  uint64_t seed = 400;
  for (const BlockCopySpec& s :
       {BlockCopySpec{4096, 7}, BlockCopySpec{1000, 3}, BlockCopySpec{17, 64}}) {
    const uint64_t sd = seed++;
    const std::string shape = std::to_string(s.page_bytes) + "B x" + std::to_string(s.n_blocks);
    cases.push_back({"gather ref " + shape, 0.0, [s, sd]() -> Result<CaseOutputs> {
                       const BlockCopyInputs in = MakeBlockCopyInputs(s, sd);
                       std::vector<std::byte> staging(in.staging.size());
                       KvBlockGatherRef(in.pool.data(), s.page_bytes, in.pages.data(), s.n_blocks,
                                        staging.data());
                       return CaseOutputs{BytesAsFloats(staging), BytesAsFloats(GatherByLoop(in))};
                     }});
    cases.push_back({"scatter ref " + shape, 0.0, [s, sd]() -> Result<CaseOutputs> {
                       const BlockCopyInputs in = MakeBlockCopyInputs(s, sd);
                       std::vector<std::byte> pool = in.pool;
                       KvBlockScatterRef(in.staging.data(), s.page_bytes, in.pages.data(),
                                         s.n_blocks, pool.data());
                       return CaseOutputs{BytesAsFloats(pool), BytesAsFloats(ScatterByLoop(in))};
                     }});
  }
  return cases;
}

}  // namespace tierkv::kernels::testing
