#include "kernels/matvec_f16_ref.h"

#include <immintrin.h>

#include <algorithm>
#include <thread>

#include "kernels/half.h"
#include "kernels/parallel_for.h"

namespace tierkv::kernels {
namespace {

// Rows that share each load of x.
constexpr int kRowBatch = 4;
// Tasks per worker thread: enough to even out a core that is busy elsewhere,
// few enough that each task streams long runs of consecutive rows.
constexpr int kTasksPerThread = 4;
// Fewest rows per task, so a task's hand-off stays small beside its work.
constexpr int kMinRowsPerTask = 16;

using RowsKernel = void (*)(const uint16_t* w, const float* x, float* y, int row_begin, int row_end,
                            int k, bool accumulate);

void Store(float* y, int r, float dot, bool accumulate) { y[r] = accumulate ? y[r] + dot : dot; }

void ScalarRows(const uint16_t* w, const float* x, float* y, int row_begin, int row_end, int k,
                bool accumulate) {
  for (int r = row_begin; r < row_end; ++r) {
    const uint16_t* row = w + static_cast<int64_t>(r) * k;
    float dot = 0.0f;
    for (int i = 0; i < k; ++i) dot += F16ToF32(row[i]) * x[i];
    Store(y, r, dot, accumulate);
  }
}

float ScalarTail(const uint16_t* row, const float* x, int from, int k) {
  float sum = 0.0f;
  for (int i = from; i < k; ++i) sum += F16ToF32(row[i]) * x[i];
  return sum;
}

// ---- AVX2 + FMA + F16C: the level the library is built for.

float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__m256 LoadF16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// kRowBatch rows from `w_rows` (k apart), 16 columns per step in two halves
// with an accumulator each, so every row keeps two FMA chains going.
void Avx2Batch(const uint16_t* w_rows, const float* x, float* y, int r, int k, bool accumulate) {
  constexpr int kStep = 16;
  __m256 acc[kRowBatch][2];
  for (auto& a : acc) a[0] = a[1] = _mm256_setzero_ps();
  const int body = k / kStep * kStep;
  for (int i = 0; i < body; i += kStep) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    const __m256 x1 = _mm256_loadu_ps(x + i + 8);
    for (int b = 0; b < kRowBatch; ++b) {
      const uint16_t* row = w_rows + static_cast<int64_t>(b) * k + i;
      acc[b][0] = _mm256_fmadd_ps(LoadF16x8(row), x0, acc[b][0]);
      acc[b][1] = _mm256_fmadd_ps(LoadF16x8(row + 8), x1, acc[b][1]);
    }
  }
  for (int b = 0; b < kRowBatch; ++b) {
    const float dot = HorizontalSum(_mm256_add_ps(acc[b][0], acc[b][1])) +
                      ScalarTail(w_rows + static_cast<int64_t>(b) * k, x, body, k);
    Store(y, r + b, dot, accumulate);
  }
}

void Avx2Rows(const uint16_t* w, const float* x, float* y, int row_begin, int row_end, int k,
              bool accumulate) {
  int r = row_begin;
  for (; r + kRowBatch <= row_end; r += kRowBatch) {
    Avx2Batch(w + static_cast<int64_t>(r) * k, x, y, r, k, accumulate);
  }
  ScalarRows(w, x, y, r, row_end, k, accumulate);
}

// ---- AVX-512 F/BW/DQ/VL, compiled for that level function by function.

#define TIERKV_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))

TIERKV_AVX512 __m512 LoadF16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

TIERKV_AVX512 void Avx512Batch(const uint16_t* w_rows, const float* x, float* y, int r, int k,
                               bool accumulate) {
  constexpr int kStep = 32;
  __m512 acc[kRowBatch][2];
  for (auto& a : acc) a[0] = a[1] = _mm512_setzero_ps();
  const int body = k / kStep * kStep;
  for (int i = 0; i < body; i += kStep) {
    const __m512 x0 = _mm512_loadu_ps(x + i);
    const __m512 x1 = _mm512_loadu_ps(x + i + 16);
    for (int b = 0; b < kRowBatch; ++b) {
      const uint16_t* row = w_rows + static_cast<int64_t>(b) * k + i;
      acc[b][0] = _mm512_fmadd_ps(LoadF16x16(row), x0, acc[b][0]);
      acc[b][1] = _mm512_fmadd_ps(LoadF16x16(row + 16), x1, acc[b][1]);
    }
  }
  for (int b = 0; b < kRowBatch; ++b) {
    const float dot = _mm512_reduce_add_ps(_mm512_add_ps(acc[b][0], acc[b][1])) +
                      ScalarTail(w_rows + static_cast<int64_t>(b) * k, x, body, k);
    Store(y, r + b, dot, accumulate);
  }
}

TIERKV_AVX512 void Avx512Rows(const uint16_t* w, const float* x, float* y, int row_begin,
                              int row_end, int k, bool accumulate) {
  int r = row_begin;
  for (; r + kRowBatch <= row_end; r += kRowBatch) {
    Avx512Batch(w + static_cast<int64_t>(r) * k, x, y, r, k, accumulate);
  }
  ScalarRows(w, x, y, r, row_end, k, accumulate);
}

#undef TIERKV_AVX512

RowsKernel KernelFor(MatVecPath path) {
  switch (path) {
    case MatVecPath::kAvx512:
      return Avx512Rows;
    case MatVecPath::kAvx2:
      return Avx2Rows;
    case MatVecPath::kScalar:
      break;
  }
  return ScalarRows;
}

}  // namespace

std::string_view MatVecPathName(MatVecPath path) {
  switch (path) {
    case MatVecPath::kAvx512:
      return "avx512";
    case MatVecPath::kAvx2:
      return "avx2";
    case MatVecPath::kScalar:
      break;
  }
  return "scalar";
}

std::vector<MatVecPath> SupportedMatVecPaths(const CpuFeatures& cpu) {
  std::vector<MatVecPath> paths = {MatVecPath::kScalar};
  if (cpu.has_avx2_fma()) paths.push_back(MatVecPath::kAvx2);
  if (cpu.has_avx2_fma() && cpu.has_avx512()) paths.push_back(MatVecPath::kAvx512);
  return paths;
}

MatVecPath BestMatVecPath(const CpuFeatures& cpu) { return SupportedMatVecPaths(cpu).back(); }

void MatVecF16(MatVecPath path, const uint16_t* w, const float* x, float* y, int n, int k,
               bool accumulate) {
  const RowsKernel kernel = KernelFor(path);
  static const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Whole batches per task, at least kMinRowsPerTask rows.
  int rows_per_task = std::max(kMinRowsPerTask, n / (threads * kTasksPerThread));
  rows_per_task = (rows_per_task + kRowBatch - 1) / kRowBatch * kRowBatch;
  const int tasks = (n + rows_per_task - 1) / rows_per_task;
  ParallelFor(tasks, [&](int t) {
    kernel(w, x, y, t * rows_per_task, std::min(n, (t + 1) * rows_per_task), k, accumulate);
  });
}

void MatVecF16Ref(const uint16_t* w, const float* x, float* y, int n, int k, bool accumulate) {
  static const MatVecPath best = BestMatVecPath(HostCpuFeatures());
  MatVecF16(best, w, x, y, n, k, accumulate);
}

}  // namespace tierkv::kernels
