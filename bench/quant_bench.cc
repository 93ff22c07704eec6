// tierkv-quant-bench: the quantized matrix products (kernels/quant_matmul.h)
// beside the limits they are compared with, in the same run.
//
// Decode (one activation row): a model's worth of matrices (--model-mb of
// weights, more than the caches hold) multiplied one after another, as one
// decode step multiplies them; its rate in weight bytes per second beside
// reading the same bytes (the memory-bandwidth limit). Prefill (--rows
// activation rows): the same products as integer multiply-adds per second,
// beside the f32 sgemm (BLAS) of the same shape. Rates are given per wall
// second and per CPU-second (see Timing).
#include <immintrin.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/matmul_ref.h"
#include "kernels/parallel_for.h"
#include "kernels/quant_matmul.h"
#include "kernels/quant_ref.h"
#include "kernels/quant_repack.h"

namespace tierkv {
namespace {

using kernels::QuantType;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Wall and CPU seconds of fn(), the best of `reps` runs each. CPU time (all
// threads) is what the work costs; on a shared machine it moves far less
// than wall time, which also counts the time others hold the cores.
struct Timing {
  double wall = 1e30;
  double cpu = 1e30;
};

template <typename Fn>
Timing Best(int reps, Fn fn) {
  Timing best;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = CpuSeconds();
    fn();
    best.cpu = std::min(best.cpu, CpuSeconds() - c0);
    best.wall = std::min(best.wall, Seconds(t0));
  }
  return best;
}

volatile uint64_t g_sink;

// Reads `bytes` on every core, the way the products read weights.
void ReadAll(const std::byte* p, size_t bytes) {
  constexpr size_t kChunk = 1 << 20;
  const int chunks = static_cast<int>((bytes + kChunk - 1) / kChunk);
  std::vector<uint64_t> sums(chunks);
  kernels::ParallelFor(chunks, [&](int c) {
    const size_t end = std::min(bytes, (c + 1) * kChunk);
    __m256i acc = _mm256_setzero_si256();
    for (size_t i = c * kChunk; i + 32 <= end; i += 32) {
      acc = _mm256_xor_si256(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    }
    sums[c] = static_cast<uint64_t>(_mm256_extract_epi64(acc, 0));
  });
  uint64_t s = 0;
  for (uint64_t v : sums) s ^= v;
  g_sink = s;
}

int Main(int argc, char** argv) {
  CLI::App app{"Quantized matrix products beside memory bandwidth and f32 sgemm."};
  int k = 1024, n = 2816, rows = 512, reps = 5;
  int model_mb = 256;
  app.add_option("--k", k, "Row length (values)")->capture_default_str();
  app.add_option("--n", n, "Rows of each matrix")->capture_default_str();
  app.add_option("--rows", rows, "Activation rows of the prefill product")->capture_default_str();
  app.add_option("--model-mb", model_mb, "Weight bytes of the decode step (MiB)")
      ->capture_default_str();
  app.add_option("--reps", reps, "Repetitions; the best is printed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("cpu: %s; path %s\n", kernels::DescribeCpu(kernels::HostCpuFeatures()).c_str(),
              std::string(kernels::QuantPathName(kernels::HostQuantPath())).c_str());
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> wf(static_cast<size_t>(n) * k), x(static_cast<size_t>(rows) * k);
  for (float& v : wf) v = normal(rng) * 0.02f;
  for (float& v : x) v = normal(rng);
  std::vector<float> y(static_cast<size_t>(rows) * n);

  const Timing sgemm = Best(
      reps, [&] { kernels::MatMulRef(x.data(), k, wf.data(), y.data(), n, rows, n, k, false); });
  const double macs = static_cast<double>(rows) * n * k;
  std::printf("prefill %d x [%d x %d]: f32 sgemm %.1f GMAC/s (%.1f per CPU-second)\n", rows, n, k,
              macs / sgemm.wall / 1e9, macs / sgemm.cpu / 1e9);

  // Q4_0 twice: in plain rows, then as the model loader keeps it, regrouped
  // in 8 rows (kernels/quant_repack.h).
  struct Case {
    QuantType type;
    bool grouped;
    const char* name;
  };
  const Case cases[] = {{QuantType::kQ8_0, false, "q8_0"},
                        {QuantType::kQ4_0, false, "q4_0"},
                        {QuantType::kQ4_0, true, "q4_0x8"},
                        {QuantType::kQ4K, false, "q4_K"},
                        {QuantType::kQ6K, false, "q6_K"}};
  for (const Case& c : cases) {
    const QuantType t = c.type;
    const size_t row_bytes = kernels::QuantRowBytes(t, k);
    const size_t matrix_bytes = row_bytes * n;
    std::vector<std::byte> one(matrix_bytes);
    for (int r = 0; r < n; ++r) {
      kernels::QuantizeRowRef(t, wf.data() + static_cast<size_t>(r) * k, one.data() + r * row_bytes,
                              k);
    }
    const bool grouped = c.grouped && n % kernels::kQ4_0GroupRows == 0;
    if (grouped) {
      one = kernels::RepackQ4_0x8(reinterpret_cast<const kernels::BlockQ4_0*>(one.data()), n,
                                  k / kernels::kQ4_0BlockValues);
    }
    auto Weights = [&](QuantType type, const std::byte* data) {
      return kernels::QuantWeights{
          .type = type, .grouped = grouped, .data = data, .rows = n, .cols = k};
    };
    const size_t copies = std::max<size_t>(1, (static_cast<size_t>(model_mb) << 20) / matrix_bytes);
    std::vector<std::byte> model(matrix_bytes * copies);
    for (size_t c = 0; c < copies; ++c) {
      std::copy(one.begin(), one.end(), model.begin() + c * matrix_bytes);
    }
    const Timing read = Best(reps, [&] { ReadAll(model.data(), model.size()); });
    const Timing decode = Best(reps, [&] {
      for (size_t c = 0; c < copies; ++c) {
        kernels::QuantMatMul(Weights(t, model.data() + c * matrix_bytes), x.data(), k, y.data(), n,
                             1, false);
      }
    });
    const Timing prefill = Best(reps, [&] {
      kernels::QuantMatMul(Weights(t, one.data()), x.data(), k, y.data(), n, rows, false);
    });
    const double gb = static_cast<double>(model.size()) / 1e9;
    const char* name = c.name;
    std::printf(
        "%-6s decode: %6.2f GB/s of weights (read limit %6.2f GB/s, %3.0f%%; per CPU-second %5.2f "
        "vs %5.2f)\n",
        name, gb / decode.wall, gb / read.wall, 100.0 * read.wall / decode.wall, gb / decode.cpu,
        gb / read.cpu);
    std::printf("%-6s prefill: %5.1f GMAC/s (%.2fx f32 sgemm; per CPU-second %5.1f, %.2fx)\n", name,
                macs / prefill.wall / 1e9, sgemm.wall / prefill.wall, macs / prefill.cpu / 1e9,
                sgemm.cpu / prefill.cpu);
  }
  return 0;
}

}  // namespace
}  // namespace tierkv

int main(int argc, char** argv) { return tierkv::Main(argc, argv); }
