#include "kernels/matvec_f16_ref.h"

#if defined(__F16C__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include <algorithm>

#include "kernels/half.h"
#include "kernels/parallel_for.h"

namespace tierkv::kernels {
namespace {

// Rows per task: enough work to amortize the hand-off, enough tasks to balance.
constexpr int kRowsPerTask = 64;

float DotF16(const uint16_t* w, const float* x, int k) {
  int i = 0;
  float sum = 0.0f;
#if defined(__F16C__) && defined(__FMA__)
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  for (; i + 16 <= k; i += 16) {
    const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    const __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i + 8)));
    acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), acc1);
  }
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  sum = _mm_cvtss_f32(s);
#endif
  for (; i < k; ++i) sum += F16ToF32(w[i]) * x[i];
  return sum;
}

}  // namespace

void MatVecF16Ref(const uint16_t* w, const float* x, float* y, int n, int k, bool accumulate) {
  const int tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  ParallelFor(tasks, [&](int t) {
    const int end = std::min(n, (t + 1) * kRowsPerTask);
    for (int r = t * kRowsPerTask; r < end; ++r) {
      const float dot = DotF16(w + static_cast<int64_t>(r) * k, x, k);
      y[r] = accumulate ? y[r] + dot : dot;
    }
  });
}

}  // namespace tierkv::kernels
