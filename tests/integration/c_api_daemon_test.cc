// The C ABI (tierkv/tierkv.h) against a real tierkvd: put, lookup, get,
// leases that lend blocks in place (and pin them), the GPU pool query, and
// clear errors for bad arguments.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/integration/daemon_process.h"
#include "tierkv/tierkv.h"

namespace tierkv::testing {
namespace {

constexpr uint32_t kBlockTokens = 16;
constexpr uint64_t kBlockBytes = 64 * 1024;
constexpr size_t kBlocks = 6;

class CApiDaemonTest : public ::testing::TestWithParam<bool> {  // true: over TCP
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonProcess>();
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
    const std::string address = GetParam() ? daemon_->tcp_address() : daemon_->socket_path();
    ASSERT_EQ(tierkv_connect(address.c_str(), &client_), TIERKV_OK) << tierkv_last_error();
    ASSERT_EQ(tierkv_open_namespace(client_, "c-api-model", "default", "f16", kBlockTokens,
                                    kBlockBytes, &ns_),
              TIERKV_OK)
        << tierkv_last_error();
    for (size_t i = 0; i < kBlocks * kBlockTokens; ++i) tokens_.push_back(i * 7 + 3);
    keys_.resize(kBlocks);
    ASSERT_EQ(tierkv_chain_keys(&ns_, tokens_.data(), tokens_.size(), keys_.data(), kBlocks),
              kBlocks);
    payload_.resize(kBlocks * kBlockBytes);
    for (size_t i = 0; i < payload_.size(); ++i) payload_[i] = static_cast<uint8_t>(i * 31 + 5);
  }
  void TearDown() override { tierkv_close(client_); }

  // Stores the first `n` blocks.
  void Put(size_t n) {
    ASSERT_EQ(tierkv_put(client_, &ns_, ns_.id, keys_.data(), n, tokens_.data(), payload_.data(),
                         n * kBlockBytes),
              TIERKV_OK)
        << tierkv_last_error();
  }
  uint32_t Matched() {
    uint32_t matched = 0;
    EXPECT_EQ(tierkv_lookup(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), 0, &matched),
              TIERKV_OK);
    return matched;
  }

  std::unique_ptr<DaemonProcess> daemon_;
  tierkv_client* client_ = nullptr;
  tierkv_namespace ns_{};
  std::vector<uint32_t> tokens_;
  std::vector<tierkv_key> keys_;
  std::vector<uint8_t> payload_;
};

TEST_P(CApiDaemonTest, PutLookupAndGetRoundTripByteExact) {
  Put(4);
  EXPECT_EQ(Matched(), 4u);
  std::vector<uint8_t> out(kBlocks * kBlockBytes);
  uint32_t copied = 0;
  ASSERT_EQ(tierkv_get(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), out.data(),
                       out.size(), &copied),
            TIERKV_OK)
      << tierkv_last_error();
  EXPECT_EQ(copied, 4u);
  EXPECT_EQ(0, std::memcmp(out.data(), payload_.data(), 4 * kBlockBytes));
}

TEST_P(CApiDaemonTest, LeasesLendTheBlocksInPlaceAndPinThem) {
  Put(kBlocks);
  tierkv_lease* lease = nullptr;
  ASSERT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), 4, 0, &lease),
            TIERKV_OK)
      << tierkv_last_error();
  ASSERT_EQ(tierkv_lease_size(lease), 4u);
  for (size_t i = 0; i < 4; ++i) {
    int tier = 0;
    const void* bytes = nullptr;
    uint64_t gpu_offset = 1;
    ASSERT_EQ(tierkv_lease_block(lease, i, &tier, &bytes, &gpu_offset), TIERKV_OK);
    EXPECT_EQ(tier, TIERKV_TIER_HOST);
    EXPECT_EQ(gpu_offset, 0u);
    ASSERT_NE(bytes, nullptr);
    EXPECT_EQ(0, std::memcmp(bytes, payload_.data() + i * kBlockBytes, kBlockBytes)) << i;
  }
  EXPECT_EQ(tierkv_lease_block(lease, 4, nullptr, nullptr, nullptr), TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tierkv_last_error()).find("block 4 of a lease of 4"), std::string::npos);

  // An eviction of everything unpinned keeps the leased blocks.
  auto admin = std::move(daemon_->Connect()).value();
  ASSERT_TRUE(admin->Evict(nullptr).ok());
  EXPECT_EQ(Matched(), GetParam() ? 0u : 4u) << "a local lease pins; a TCP one holds the bytes";
  tierkv_release(lease);
  ASSERT_TRUE(admin->Evict(nullptr).ok());
  EXPECT_EQ(Matched(), 0u);
}

TEST_P(CApiDaemonTest, GpuPoolSaysWhyItIsNotThere) {
  tierkv_gpu_pool pool;
  const tierkv_status s = tierkv_gpu_pool_info(client_, &pool);
  if (GetParam()) {
    EXPECT_EQ(s, TIERKV_UNSUPPORTED) << tierkv_last_error();
    return;
  }
  if (s == TIERKV_OK) GTEST_SKIP() << "this daemon has a GPU tier";
  EXPECT_EQ(s, TIERKV_UNAVAILABLE);
  EXPECT_NE(std::string(tierkv_last_error()).find("gpu tier is off"), std::string::npos)
      << tierkv_last_error();
  // Asking for GPU locations without a GPU tier still lends host blocks.
  Put(2);
  tierkv_lease* lease = nullptr;
  ASSERT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), kBlocks,
                           TIERKV_ACQUIRE_GPU, &lease),
            TIERKV_OK);
  ASSERT_EQ(tierkv_lease_size(lease), 2u);
  int tier = 0;
  ASSERT_EQ(tierkv_lease_block(lease, 1, &tier, nullptr, nullptr), TIERKV_OK);
  EXPECT_EQ(tier, TIERKV_TIER_HOST);
  tierkv_release(lease);
}

TEST_P(CApiDaemonTest, BadArgumentsGetClearErrorsAndChangeNothing) {
  Put(2);
  tierkv_lease* lease = nullptr;
  EXPECT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), kBlocks, nullptr, kBlocks, 0, &lease),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), kBlocks, 8,
                           &lease),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tierkv_last_error()).find("unknown acquire flags"), std::string::npos);
  uint32_t matched = 0;
  EXPECT_EQ(tierkv_lookup(client_, &ns_, nullptr, 3, tokens_.data(), 0, &matched),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_EQ(tierkv_put(client_, &ns_, ns_.id, keys_.data(), 1, nullptr, payload_.data(),
                       kBlockBytes),
            TIERKV_INVALID_ARGUMENT);
  // A payload of the wrong size for a block that is otherwise right (block
  // 2, chained from block 1) is refused by the client library.
  EXPECT_EQ(tierkv_put(client_, &ns_, keys_[1], keys_.data() + 2, 1, tokens_.data() + 2 * 16,
                       payload_.data(), kBlockBytes - 1),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tierkv_last_error()).find("want " + std::to_string(kBlockBytes)),
            std::string::npos)
      << tierkv_last_error();
  EXPECT_EQ(tierkv_lease_size(nullptr), 0u);
  tierkv_release(nullptr);
  EXPECT_EQ(Matched(), 2u);
}

INSTANTIATE_TEST_SUITE_P(UnixAndTcp, CApiDaemonTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Tcp" : "Unix"; });

}  // namespace
}  // namespace tierkv::testing
