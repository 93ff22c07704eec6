// Helpers shared by the GPU kernel tests: skipping without a device, moving
// vectors to and from device memory, and KV values in f32, f16 or bf16.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cuda_util.h"
#include "kernels/half.h"
#include "kernels/kernel_args.h"
#include "kernels/kernel_cases.h"

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
// the kernel see the same KV and the comparison measures only the kernel.
inline void RoundToDtype(std::vector<float>& v, KvDtype dtype) {
  for (float& x : v) {
    if (dtype == KvDtype::kF16) x = F16ToF32(F32ToF16(x));
    if (dtype == KvDtype::kBf16) x = Bf16ToF32(F32ToBf16(x));
  }
}

// The bytes of `v` stored as `dtype`.
inline std::vector<std::byte> EncodeAs(const std::vector<float>& v, KvDtype dtype) {
  std::vector<std::byte> out(v.size() * KvDtypeBytes(dtype));
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == KvDtype::kF32) {
      std::memcpy(out.data() + 4 * i, &v[i], 4);
      continue;
    }
    const uint16_t h = dtype == KvDtype::kF16 ? F32ToF16(v[i]) : F32ToBf16(v[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

// Attention's normalized-error bound by KV dtype, from the harness's table
// (kernel_cases.h): f32 summation order and __expf.
inline double AttentionErrorBound(KvDtype dtype) {
  constexpr double kAttentionF32Bound = 1e-4;
  return BoundFor(dtype, kAttentionF32Bound);
}

}  // namespace tierkv::kernels::testing
