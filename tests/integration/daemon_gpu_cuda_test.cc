// A daemon with its GPU tier on (needs a CUDA device; skips, naming the
// reason, without one): blocks acquired by a GPU client are copied up, the
// next acquire names them in the device pool, and this process reads them
// there through the pool's CUDA IPC handle, byte-exact.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"

namespace tierkv::testing {
namespace {

constexpr uint64_t kBlockBytes = 256 * 1024;

TEST(DaemonGpuCudaTest, GpuClientsReadBlocksFromTheDevicePoolByteExact) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    GTEST_SKIP() << "no CUDA device: " << cudaGetErrorString(cudaGetDeviceCount(&devices));
  }
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  auto pool = client->GpuPool();
  ASSERT_TRUE(pool.ok()) << pool.status().ToString() << "\n" << daemon.log();
  ASSERT_EQ(pool->ipc_handle.size(), sizeof(cudaIpcMemHandle_t));
  ASSERT_EQ(cudaSetDevice(pool->device), cudaSuccess);
  cudaIpcMemHandle_t handle;
  std::memcpy(&handle, pool->ipc_handle.data(), sizeof handle);
  void* base = nullptr;
  ASSERT_EQ(cudaIpcOpenMemHandle(&base, handle, cudaIpcMemLazyEnablePeerAccess), cudaSuccess);

  auto ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const Prompt p = MakePrompt(ns, 8);
  const auto payload = Payload(ns, 8, 11);
  ASSERT_TRUE(client->Put(ns, ns.id, p.keys, p.tokens, payload).ok());
  // The first GPU acquire is served from the host and starts the copies up.
  {
    auto lease = client->Acquire(ns, p.keys, p.tokens, 8, AcquireOptions{.gpu = true});
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ(lease->location(0), TierKind::kHost);
  }
  Lease lease;
  WaitUntil([&] {
    auto l = client->Acquire(ns, p.keys, p.tokens, 8, AcquireOptions{.gpu = true});
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    if (!l.ok() || l->size() != 8 || l->location(7) != TierKind::kGpu) return !l.ok();
    lease = std::move(*l);
    return true;
  });
  ASSERT_EQ(lease.size(), 8u) << "blocks never reached the GPU tier";
  std::vector<std::byte> got(kBlockBytes);
  for (size_t i = 0; i < 8; ++i) {
    ASSERT_EQ(lease.location(i), TierKind::kGpu);
    ASSERT_EQ(cudaMemcpy(got.data(), static_cast<char*>(base) + lease.gpu_offset(i), kBlockBytes,
                         cudaMemcpyDeviceToHost),
              cudaSuccess);
    EXPECT_EQ(0, std::memcmp(got.data(), payload.data() + i * kBlockBytes, kBlockBytes)) << i;
  }
  // A client that asks for host memory still gets the host copies.
  auto host_lease = client->Acquire(ns, p.keys, p.tokens, 8);
  ASSERT_TRUE(host_lease.ok());
  EXPECT_EQ(host_lease->location(0), TierKind::kHost);
  EXPECT_EQ(0, std::memcmp(host_lease->payload(0).data(), payload.data(), kBlockBytes));

  const TierStats gpu = TierRow(*client, "gpu");
  EXPECT_EQ(gpu.blocks, 8u);
  EXPECT_GE(gpu.hits, 8u);
  EXPECT_EQ(cudaIpcCloseMemHandle(base), cudaSuccess);
}

// Blocks a GPU client stores go up at commit: the test waits on the GPU
// row of the statistics, which starts no copy (a GPU acquire would start the
// copies itself), and then the first GPU acquire finds every block on the
// device, byte-exact.
TEST(DaemonGpuCudaTest, BlocksAGpuClientStoresGoUpAtCommit) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    GTEST_SKIP() << "no CUDA device";
  }
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  auto pool = client->GpuPool();
  ASSERT_TRUE(pool.ok()) << pool.status().ToString() << "\n" << daemon.log();
  ASSERT_EQ(cudaSetDevice(pool->device), cudaSuccess);
  cudaIpcMemHandle_t handle;
  ASSERT_EQ(pool->ipc_handle.size(), sizeof handle);
  std::memcpy(&handle, pool->ipc_handle.data(), sizeof handle);
  void* base = nullptr;
  ASSERT_EQ(cudaIpcOpenMemHandle(&base, handle, cudaIpcMemLazyEnablePeerAccess), cudaSuccess);

  auto ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const Prompt p = MakePrompt(ns, 4);
  const auto payload = Payload(ns, 4, 3);
  auto res = client->Reserve(ns, ns.id, p.keys, p.tokens, ReserveOptions{.gpu = true});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  for (size_t i = 0; i < 4; ++i) {
    std::memcpy(res->payload(i).data(), payload.data() + i * kBlockBytes, kBlockBytes);
  }
  ASSERT_TRUE(res->Commit().ok());
  EXPECT_TRUE(WaitUntil([&] { return TierRow(*client, "gpu").blocks == 4; }))
      << "stored blocks never reached the GPU tier: " << TierRow(*client, "gpu").blocks
      << " of 4 there";
  auto lease = client->Acquire(ns, p.keys, p.tokens, 4, AcquireOptions{.gpu = true});
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_EQ(lease->size(), 4u);
  std::vector<std::byte> got(kBlockBytes);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(lease->location(i), TierKind::kGpu) << "block " << i;
    ASSERT_EQ(cudaMemcpy(got.data(), static_cast<char*>(base) + lease->gpu_offset(i), kBlockBytes,
                         cudaMemcpyDeviceToHost),
              cudaSuccess);
    EXPECT_EQ(0, std::memcmp(got.data(), payload.data() + i * kBlockBytes, kBlockBytes)) << i;
  }
  EXPECT_EQ(cudaIpcCloseMemHandle(base), cudaSuccess);
}

}  // namespace
}  // namespace tierkv::testing
