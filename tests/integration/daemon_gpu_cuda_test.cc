// A daemon with its GPU tier on (needs a CUDA device; skips, naming the
// reason, without one): blocks acquired by a GPU client are copied up, the
// next acquire names them in the device pool, and this process reads them
// there through the pool's CUDA IPC handle, byte-exact.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <thread>

#include "tests/integration/daemon_process.h"

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
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto l = client->Acquire(ns, p.keys, p.tokens, 8, AcquireOptions{.gpu = true});
    ASSERT_TRUE(l.ok());
    if (l->size() == 8 && l->location(7) == TierKind::kGpu) {
      lease = std::move(*l);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
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

  auto stats = client->GetStats();
  ASSERT_TRUE(stats.ok());
  ASSERT_FALSE(stats->tiers.empty());
  EXPECT_EQ(stats->tiers[0].name, "gpu");
  EXPECT_EQ(stats->tiers[0].blocks, 8u);
  EXPECT_GE(stats->tiers[0].hits, 8u);
  EXPECT_EQ(cudaIpcCloseMemHandle(base), cudaSuccess);
}

// Blocks a GPU client stores go up at commit: its first GPU acquire can
// already find them on the device (once the copies are done).
TEST(DaemonGpuCudaTest, BlocksAGpuClientStoresGoUpAtCommit) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    GTEST_SKIP() << "no CUDA device";
  }
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  auto ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const Prompt p = MakePrompt(ns, 4);
  const auto payload = Payload(ns, 4, 3);
  auto res = client->Reserve(ns, ns.id, p.keys, p.tokens, ReserveOptions{.gpu = true});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  for (size_t i = 0; i < 4; ++i) {
    std::memcpy(res->payload(i).data(), payload.data() + i * kBlockBytes, kBlockBytes);
  }
  ASSERT_TRUE(res->Commit().ok());
  bool on_gpu = false;
  for (int attempt = 0; attempt < 200 && !on_gpu; ++attempt) {
    auto lease = client->Acquire(ns, p.keys, p.tokens, 4, AcquireOptions{.gpu = true});
    ASSERT_TRUE(lease.ok());
    ASSERT_EQ(lease->size(), 4u);
    on_gpu = lease->location(3) == TierKind::kGpu;
    if (!on_gpu) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(on_gpu) << "stored blocks never reached the GPU tier";
  auto stats = client->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->tiers.front().name, "gpu");
  EXPECT_EQ(stats->tiers.front().blocks, 4u);
}

}  // namespace
}  // namespace tierkv::testing
