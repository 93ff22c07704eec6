// The GPU tier on a real device: copies through the pool, asynchronous copies
// from page-locked host memory, and an IPC handle another process can open.
// Skips, naming the reason, without a CUDA device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda_util.h"
#include "tiers/gpu/cuda_device_memory.h"
#include "tiers/gpu/gpu_tier.h"

namespace tierkv {
namespace {

#define SKIP_WITHOUT_GPU()                                            \
  do {                                                                \
    auto devices = ::tierkv::kernels::CudaDeviceCount();              \
    if (!devices.ok()) GTEST_SKIP() << devices.status().message();    \
  } while (0)

std::vector<std::byte> Pattern(size_t n, int seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte((i * 131 + seed) & 0xff);
  return v;
}

TEST(GpuTierCudaTest, SyncAndAsyncCopiesAreByteExact) {
  SKIP_WITHOUT_GPU();
  auto memory = OpenCudaDeviceMemory(0, 64 << 20);
  ASSERT_TRUE(memory.ok()) << memory.status().ToString();
  auto tier = GpuTier::Create(std::move(*memory), 16 << 20);
  ASSERT_TRUE(tier.ok());
  std::vector<std::byte> host = Pattern(4 << 20, 9);
  auto registration = RegisterHostMemory(host);
  ASSERT_TRUE(registration.ok()) << registration.status().ToString();
  std::vector<TierSlot> slots;
  int done = 0;
  for (int i = 0; i < 8; ++i) {
    auto slot = (*tier)->Allocate(1 << 20);
    ASSERT_TRUE(slot.ok());
    slots.push_back(*slot);
    const auto src = std::span<const std::byte>(host).subspan(size_t(i % 4) << 20, 1 << 20);
    ASSERT_TRUE((*tier)->WriteAsync(*slot, src, [&](Status s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++done;
    }).ok());
  }
  (*tier)->memory().Drain();
  EXPECT_EQ(done, 8);
  std::vector<std::byte> out(1 << 20);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE((*tier)->Read(slots[i], out).ok());
    EXPECT_EQ(0, std::memcmp(out.data(), host.data() + (size_t(i % 4) << 20), out.size())) << i;
  }
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// The reading side of the IPC test, in a fresh process (a CUDA context does
// not survive fork, so the parent runs this binary again, with
// kIpcReaderFlag and the handle; main() below sends it here instead of to
// the tests). Returns the process's exit status: 0 when the pool's bytes at
// offset 4096 are Pattern(1 MiB, 4).
constexpr char kIpcReaderFlag[] = "--ipc-reader";

int RunIpcReader(const std::string& handle_hex) {
  const std::string raw = Unhex(handle_hex);
  if (raw.size() != sizeof(cudaIpcMemHandle_t)) {
    std::fprintf(stderr, "ipc reader: handle of %zu bytes\n", raw.size());
    return 2;
  }
  cudaIpcMemHandle_t handle;
  std::memcpy(&handle, raw.data(), sizeof handle);
  void* base = nullptr;
  if (cudaError_t e = cudaIpcOpenMemHandle(&base, handle, cudaIpcMemLazyEnablePeerAccess);
      e != cudaSuccess) {
    std::fprintf(stderr, "ipc reader: cudaIpcOpenMemHandle: %s\n", cudaGetErrorString(e));
    return 3;
  }
  std::vector<std::byte> got(1 << 20);
  const cudaError_t copied =
      cudaMemcpy(got.data(), static_cast<char*>(base) + 4096, got.size(), cudaMemcpyDeviceToHost);
  const bool exact = copied == cudaSuccess && got == Pattern(1 << 20, 4);
  if (!exact) {
    std::fprintf(stderr, "ipc reader: %s\n",
                 copied != cudaSuccess ? cudaGetErrorString(copied) : "bytes differ");
  }
  const bool closed = cudaIpcCloseMemHandle(base) == cudaSuccess;
  return exact && closed ? 0 : 4;
}

TEST(GpuTierCudaTest, AnotherProcessReadsThePoolThroughItsIpcHandle) {
  SKIP_WITHOUT_GPU();
  auto memory = OpenCudaDeviceMemory(0, 8 << 20);
  ASSERT_TRUE(memory.ok()) << memory.status().ToString();
  const auto payload = Pattern(1 << 20, 4);
  ASSERT_TRUE((*memory)->CopyToDevice(4096, payload.data(), payload.size()).ok());
  auto exported = (*memory)->Export();
  ASSERT_TRUE(exported.ok());
  ASSERT_EQ(exported->ipc_handle.size(), sizeof(cudaIpcMemHandle_t));
  const std::string command = "/proc/" + std::to_string(::getpid()) + "/exe " + kIpcReaderFlag +
                              " " + Hex(exported->ipc_handle);
  const int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << "the child could not read the pool through the IPC handle";
}

}  // namespace
}  // namespace tierkv

// The tests, or (with kIpcReaderFlag) the reading side of the IPC test.
int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == tierkv::kIpcReaderFlag) {
    return tierkv::RunIpcReader(argv[2]);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
