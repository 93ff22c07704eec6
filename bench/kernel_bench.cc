// tierkv-kernel-bench: the CUDA kernels beside the limits they are judged by.
//
//   decode attention   achieved KV bytes/s  vs  device-to-device copy bandwidth
//   prefill attention  achieved FLOP/s      vs  cuBLAS GEMM FLOP/s (f32 and f16)
//   cached prefix load achieved GB/s        vs  pinned host-to-device bandwidth
//
// Copy bandwidth counts bytes read plus bytes written (a D2D copy of N bytes
// moves 2N through HBM); attention counts the K and V bytes it reads, which
// dominate its traffic. Without a GPU it says so in one line and exits 0.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/cublas_matmul.h"
#include "kernels/cuda_util.h"
#include "kernels/kv_block_copy.cuh"
#include "kernels/paged_attention.cuh"

namespace tierkv::kernels {
namespace {

struct Options {
  int context = 4096;
  int n_head = 32;
  int n_head_kv = 8;
  int head_dim = 128;
  int block_tokens = 16;
  int layers = 32;  // for the prefix load: a page holds every layer's K and V
  std::string dtype = "f16";
  int iters = 20;
};

// Times `iters` runs of `fn` on the default stream with events, after one
// warm-up run; returns seconds per run, or the first failure.
template <typename Fn>
Result<double> TimeIt(int iters, Fn&& fn) {
  TIERKV_RETURN_IF_ERROR(fn());
  cudaEvent_t start, stop;
  TIERKV_CUDA_RETURN_IF_ERROR(cudaEventCreate(&start));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaEventCreate(&stop));
  Status status = CudaStatus(cudaEventRecord(start), "cudaEventRecord");
  for (int i = 0; i < iters && status.ok(); ++i) status = fn();
  float ms = 0.0f;
  if (status.ok()) status = CudaStatus(cudaEventRecord(stop), "cudaEventRecord");
  if (status.ok()) status = CudaStatus(cudaEventSynchronize(stop), "cudaEventSynchronize");
  if (status.ok()) status = CudaStatus(cudaEventElapsedTime(&ms, start, stop), "elapsed");
  (void)cudaEventDestroy(start);
  (void)cudaEventDestroy(stop);
  TIERKV_RETURN_IF_ERROR(status);
  return ms / 1e3 / iters;
}

std::vector<int32_t> ShuffledPages(int n, uint32_t seed) {
  std::vector<int32_t> pages(n);
  std::iota(pages.begin(), pages.end(), 0);
  std::shuffle(pages.begin(), pages.end(), std::mt19937(seed));
  return pages;
}

Result<DeviceBuffer> UploadInts(const std::vector<int32_t>& v) {
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer buf, DeviceBuffer::Allocate(v.size() * sizeof(int32_t)));
  TIERKV_CUDA_RETURN_IF_ERROR(
      cudaMemcpy(buf.get(), v.data(), v.size() * sizeof(int32_t), cudaMemcpyHostToDevice));
  return buf;
}

// Device-to-device copy bandwidth over a 1 GiB buffer, read + write bytes.
Result<double> MeasureD2DBytesPerSec(int iters) {
  constexpr size_t kBytes = size_t{1} << 30;
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer a, DeviceBuffer::Allocate(kBytes));
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::Allocate(kBytes));
  TIERKV_ASSIGN_OR_RETURN(double s, TimeIt(iters, [&] {
                            return CudaStatus(
                                cudaMemcpyAsync(b.get(), a.get(), kBytes, cudaMemcpyDeviceToDevice),
                                "cudaMemcpyAsync D2D");
                          }));
  return 2.0 * kBytes / s;
}

// One layer's pages for `n_seqs` sequences of `context` tokens, K and V in
// separate pools, block tables into shuffled pages.
struct DecodePages {
  DeviceBuffer k, v, tables, lens;
  PagedKv kv;
  int max_blocks = 0;
};

Result<DecodePages> MakeDecodePages(const Options& o, KvDtype dtype, int n_seqs) {
  DecodePages p;
  const int kv_dim = o.n_head_kv * o.head_dim;
  p.max_blocks = (o.context + o.block_tokens - 1) / o.block_tokens;
  const int n_pages = p.max_blocks * n_seqs;
  const size_t pool_bytes =
      static_cast<size_t>(n_pages) * o.block_tokens * KvRowBytes(dtype, kv_dim);
  TIERKV_ASSIGN_OR_RETURN(p.k, DeviceBuffer::Allocate(pool_bytes));
  TIERKV_ASSIGN_OR_RETURN(p.v, DeviceBuffer::Allocate(pool_bytes));
  // Zero K and V give a uniform softmax: the kernels' work does not depend on values.
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMemset(p.k.get(), 0, pool_bytes));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMemset(p.v.get(), 0, pool_bytes));
  TIERKV_ASSIGN_OR_RETURN(p.tables, UploadInts(ShuffledPages(n_pages, 1)));
  TIERKV_ASSIGN_OR_RETURN(p.lens, UploadInts(std::vector<int32_t>(n_seqs, o.context)));
  p.kv = {p.k.get(),      p.v.get(), o.block_tokens * KvRowUnits(dtype, kv_dim),
          o.block_tokens, kv_dim,    dtype};
  return p;
}

Status BenchDecode(const Options& o, KvDtype dtype, double d2d) {
  const AttentionShape shape{o.n_head, o.n_head_kv, o.head_dim,
                             1.0f / std::sqrt(static_cast<float>(o.head_dim))};
  for (int n_seqs : {1, 8, 32}) {
    TIERKV_ASSIGN_OR_RETURN(DecodePages p, MakeDecodePages(o, dtype, n_seqs));
    TIERKV_ASSIGN_OR_RETURN(DecodeSplitPlan plan,
                            PlanDecodeForDevice(o.context, n_seqs, o.n_head_kv));
    const size_t ws_bytes = DecodeWorkspaceBytes(n_seqs, o.n_head, o.head_dim, plan);
    const size_t io = static_cast<size_t>(n_seqs) * o.n_head * o.head_dim * sizeof(float);
    TIERKV_ASSIGN_OR_RETURN(DeviceBuffer ws, DeviceBuffer::Allocate(ws_bytes));
    TIERKV_ASSIGN_OR_RETURN(DeviceBuffer q, DeviceBuffer::Allocate(io));
    TIERKV_ASSIGN_OR_RETURN(DeviceBuffer out, DeviceBuffer::Allocate(io));
    TIERKV_CUDA_RETURN_IF_ERROR(cudaMemset(q.get(), 0, io));
    TIERKV_ASSIGN_OR_RETURN(double s, TimeIt(o.iters, [&] {
                              return PagedAttentionDecodeCuda(
                                  q.as<float>(), n_seqs, p.tables.as<int32_t>(), p.max_blocks,
                                  p.lens.as<int32_t>(), o.context, p.kv, shape, plan, ws.get(),
                                  ws_bytes, out.as<float>(), nullptr);
                            }));
    const double kv_bytes = 2.0 * n_seqs * o.context * KvRowBytes(dtype, p.kv.kv_dim);
    std::printf(
        "decode   batch %2d x %d tokens %-4s  %8.1f us  %7.1f GB/s KV read   d2d copy %7.1f GB/s  "
        "(%.2fx; %d splits of %d)\n",
        n_seqs, o.context, std::string(KvDtypeName(dtype)).c_str(), s * 1e6, kv_bytes / s / 1e9,
        d2d / 1e9, kv_bytes / s / d2d, plan.n_splits, plan.split_tokens);
  }
  return Status::Ok();
}

Result<double> MeasureGemmFlops(GemmDtype dtype, int n, int iters) {
  TIERKV_ASSIGN_OR_RETURN(CublasMatMul blas, CublasMatMul::Create(nullptr));
  const size_t elems = static_cast<size_t>(n) * n;
  const size_t in_bytes = elems * (dtype == GemmDtype::kF32 ? 4 : 2);
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer x, DeviceBuffer::Allocate(in_bytes));
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer w, DeviceBuffer::Allocate(in_bytes));
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer y, DeviceBuffer::Allocate(elems * sizeof(float)));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMemset(x.get(), 0, in_bytes));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMemset(w.get(), 0, in_bytes));
  TIERKV_ASSIGN_OR_RETURN(double s, TimeIt(iters, [&] {
                            return blas.MatMul(dtype, x.get(), n, w.get(), y.as<float>(), n, n, n,
                                               n, false);
                          }));
  return 2.0 * n * n * n / s;
}

Status BenchPrefill(const Options& o, KvDtype dtype) {
  constexpr int kGemmSize = 4096;
  TIERKV_ASSIGN_OR_RETURN(double gemm_f32, MeasureGemmFlops(GemmDtype::kF32, kGemmSize, o.iters));
  TIERKV_ASSIGN_OR_RETURN(double gemm_f16, MeasureGemmFlops(GemmDtype::kF16, kGemmSize, o.iters));
  const AttentionShape shape{o.n_head, o.n_head_kv, o.head_dim,
                             1.0f / std::sqrt(static_cast<float>(o.head_dim))};
  TIERKV_ASSIGN_OR_RETURN(DecodePages p, MakeDecodePages(o, dtype, 1));
  // Cold prefill of the whole context, and the uncached tail of a cached prefix.
  for (int n_past : {0, o.context - 512}) {
    const int n_new = o.context - n_past;
    const size_t io = static_cast<size_t>(n_new) * o.n_head * o.head_dim * sizeof(float);
    TIERKV_ASSIGN_OR_RETURN(DeviceBuffer q, DeviceBuffer::Allocate(io));
    TIERKV_ASSIGN_OR_RETURN(DeviceBuffer out, DeviceBuffer::Allocate(io));
    TIERKV_CUDA_RETURN_IF_ERROR(cudaMemset(q.get(), 0, io));
    TIERKV_ASSIGN_OR_RETURN(double s, TimeIt(o.iters, [&] {
                              return PagedAttentionPrefillCuda(q.as<float>(), n_new, n_past,
                                                               p.tables.as<int32_t>(), p.kv, shape,
                                                               out.as<float>(), nullptr);
                            }));
    // QK^T and PV over the causal part: 2 products x 2 FLOP per multiply-add.
    const double pairs = static_cast<double>(n_new) * n_past + 0.5 * n_new * (n_new + 1.0);
    const double flops = 4.0 * o.n_head * o.head_dim * pairs;
    std::printf(
        "prefill  %4d new + %4d cached %-4s  %8.1f us  %7.2f TFLOP/s   cuBLAS %dx%dx%d f32 %.2f, "
        "f16 %.2f TFLOP/s (%.2fx of f32)\n",
        n_new, n_past, std::string(KvDtypeName(dtype)).c_str(), s * 1e6, flops / s / 1e12,
        kGemmSize, kGemmSize, kGemmSize, gemm_f32 / 1e12, gemm_f16 / 1e12, flops / s / gemm_f32);
  }
  return Status::Ok();
}

// A cached prefix of `context` tokens, block by block from the daemon's pinned
// pool into shuffled engine pages, against one bulk pinned H2D copy of the
// same bytes; and the same prefix from the daemon's GPU tier (a device buffer
// here: an IPC-opened pool is the same device memory), against the device's
// copy bandwidth (read + write bytes, as the scatter reads and writes each).
Status BenchPrefixLoad(const Options& o, KvDtype dtype) {
  const int n_blocks = o.context / o.block_tokens;
  const size_t page_bytes = static_cast<size_t>(o.layers) * 2 * o.block_tokens *
                            KvRowBytes(dtype, o.n_head_kv * o.head_dim);
  const size_t bytes = page_bytes * n_blocks;
  TIERKV_ASSIGN_OR_RETURN(PinnedBuffer host, PinnedBuffer::Allocate(bytes));
  std::fill_n(static_cast<char*>(host.get()), bytes, 0);
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer pool, DeviceBuffer::Allocate(bytes));
  const std::vector<int32_t> pages = ShuffledPages(n_blocks, 2);
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer d_pages, UploadInts(pages));
  void* host_view = nullptr;
  TIERKV_CUDA_RETURN_IF_ERROR(cudaHostGetDevicePointer(&host_view, host.get(), 0));
  auto* pool_bytes = pool.as<std::byte>();
  auto* host_bytes = static_cast<const std::byte*>(host.get());

  TIERKV_ASSIGN_OR_RETURN(
      double bulk, TimeIt(o.iters, [&] {
        return CudaStatus(cudaMemcpyAsync(pool.get(), host.get(), bytes, cudaMemcpyHostToDevice),
                          "bulk H2D");
      }));
  TIERKV_ASSIGN_OR_RETURN(double per_block, TimeIt(o.iters, [&]() -> Status {
                            for (int i = 0; i < n_blocks; ++i) {
                              TIERKV_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(
                                  pool_bytes + pages[i] * page_bytes, host_bytes + i * page_bytes,
                                  page_bytes, cudaMemcpyHostToDevice));
                            }
                            return Status::Ok();
                          }));
  TIERKV_ASSIGN_OR_RETURN(double kernel, TimeIt(o.iters, [&] {
                            return KvBlockScatterCuda(static_cast<const std::byte*>(host_view),
                                                      page_bytes, d_pages.as<int32_t>(), n_blocks,
                                                      pool_bytes, nullptr);
                          }));
  const double h2d = bytes / bulk;
  std::printf("prefix   %d tokens = %d blocks x %zu KiB %-4s  pinned H2D %6.1f GB/s\n", o.context,
              n_blocks, page_bytes / 1024, std::string(KvDtypeName(dtype)).c_str(), h2d / 1e9);
  std::printf("         cudaMemcpyAsync per block  %6.1f GB/s (%.2fx)\n", bytes / per_block / 1e9,
              bulk / per_block);
  std::printf("         one scatter kernel (zero-copy)  %6.1f GB/s (%.2fx)\n", bytes / kernel / 1e9,
              bulk / kernel);

  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer gpu_tier, DeviceBuffer::Allocate(bytes));
  TIERKV_ASSIGN_OR_RETURN(double from_tier, TimeIt(o.iters, [&] {
                            return KvBlockScatterCuda(gpu_tier.as<const std::byte>(), page_bytes,
                                                      d_pages.as<int32_t>(), n_blocks, pool_bytes,
                                                      nullptr);
                          }));
  TIERKV_ASSIGN_OR_RETURN(const double d2d, MeasureD2DBytesPerSec(o.iters));
  const double moved = 2.0 * bytes / from_tier;
  std::printf("         from the GPU tier (scatter D2D)  %6.1f GB/s read+write vs D2D copy %6.1f "
              "(%.2fx, goal 0.8x)\n",
              moved / 1e9, d2d / 1e9, moved / d2d);
  return Status::Ok();
}

Status Run(const Options& o) {
  TIERKV_ASSIGN_OR_RETURN(KvDtype dtype, ParseKvDtype(o.dtype));
  cudaDeviceProp prop{};
  TIERKV_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, 0));
  std::printf("device   %s, %d SMs, %.0f GiB\n", prop.name, prop.multiProcessorCount,
              prop.totalGlobalMem / double(1 << 30));
  TIERKV_ASSIGN_OR_RETURN(double d2d, MeasureD2DBytesPerSec(o.iters));
  TIERKV_RETURN_IF_ERROR(BenchDecode(o, dtype, d2d));
  TIERKV_RETURN_IF_ERROR(BenchPrefill(o, dtype));
  return BenchPrefixLoad(o, dtype);
}

}  // namespace
}  // namespace tierkv::kernels

int main(int argc, char** argv) {
  tierkv::kernels::Options o;
  CLI::App app{"tierkv-kernel-bench: CUDA attention and KV loads beside the device's own limits"};
  app.add_option("--context", o.context, "Tokens per sequence")->capture_default_str();
  app.add_option("--heads", o.n_head, "Query heads")->capture_default_str();
  app.add_option("--kv-heads", o.n_head_kv, "KV heads")->capture_default_str();
  app.add_option("--head-dim", o.head_dim, "Head size")->capture_default_str();
  app.add_option("--block-tokens", o.block_tokens, "Tokens per page")->capture_default_str();
  app.add_option("--layers", o.layers, "Layers per page, for the prefix load")
      ->capture_default_str();
  app.add_option("--dtype", o.dtype, "KV dtype: f32, f16, bf16 or q8_0")->capture_default_str();
  app.add_option("--iters", o.iters, "Timed runs per figure")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto devices = tierkv::kernels::CudaDeviceCount();
  if (!devices.ok()) {
    std::printf("tierkv-kernel-bench: nothing measured: %s\n",
                std::string(devices.status().message()).c_str());
    return 0;
  }
  const tierkv::Status status = tierkv::kernels::Run(o);
  if (!status.ok()) {
    std::fprintf(stderr, "tierkv-kernel-bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
