// Helpers shared by the GPU kernel tests: skipping without a device, moving
// vectors to and from device memory, and values in any KV dtype.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda_util.h"
#include "kernels/kernel_args.h"
#include "kernels/kernel_cases.h"
#include "kernels/kv_dtype.h"

// Skips the current test, naming the reason, when no CUDA device can be used.
#define TIERKV_SKIP_WITHOUT_GPU()                                \
  do {                                                           \
    auto tierkv_devices_ = ::tierkv::kernels::CudaDeviceCount(); \
    if (!tierkv_devices_.ok()) {                                 \
      GTEST_SKIP() << tierkv_devices_.status().message();        \
    }                                                            \
  } while (0)

namespace tierkv::kernels::testing {

template <typename T>
DeviceBuffer Upload(const std::vector<T>& host) {
  auto buf = DeviceBuffer::Allocate(host.size() * sizeof(T));
  EXPECT_TRUE(buf.ok()) << buf.status().ToString();
  if (!buf.ok()) return DeviceBuffer();
  EXPECT_EQ(cudaMemcpy(buf->get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
            cudaSuccess);
  return std::move(buf).value();
}

template <typename T>
std::vector<T> Download(const DeviceBuffer& buf, size_t n) {
  std::vector<T> host(n);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(host.data(), buf.get(), n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
  return host;
}

// Rounds every value to what `dtype` can hold, so that the CPU reference and
// the kernel see the same values and the comparison measures only the kernel.
inline void RoundToDtype(std::vector<float>& v, KvDtype dtype) {
  std::vector<std::byte> stored(KvRowBytes(dtype, static_cast<int>(v.size())));
  F32ToKv(dtype, v.data(), stored.data(), static_cast<int>(v.size()));
  KvToF32(dtype, stored.data(), v.data(), static_cast<int>(v.size()));
}

// The bytes of `v` stored as `dtype`.
inline std::vector<std::byte> EncodeAs(const std::vector<float>& v, KvDtype dtype) {
  std::vector<std::byte> out(KvRowBytes(dtype, static_cast<int>(v.size())));
  F32ToKv(dtype, v.data(), out.data(), static_cast<int>(v.size()));
  return out;
}

// Attention's normalized-error bound by KV dtype, from the harness's table
// (kernel_cases.h): f32 summation order and __expf.
inline double AttentionErrorBound(KvDtype dtype) {
  constexpr double kAttentionF32Bound = 1e-4;
  return BoundFor(dtype, kAttentionF32Bound);
}

}  // namespace tierkv::kernels::testing
