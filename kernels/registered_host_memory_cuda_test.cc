// RegisteredHostMemory: kernels read a registered shared mapping (as the
// daemon's pool is in an engine process) in place. The argument checks run
// without a GPU; the rest skips without one.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <random>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kv_block_copy.cuh"
#include "kernels/kv_block_copy_ref.h"
#include "kernels/registered_host_memory.h"

namespace tierkv::kernels {
namespace {

// A shared anonymous mapping, like tierkvd's pool mapped into a client.
class SharedMapping {
 public:
  explicit SharedMapping(size_t bytes) : bytes_(bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
  }
  ~SharedMapping() {
    if (data_ != nullptr) ::munmap(data_, bytes_);
  }
  std::span<std::byte> bytes() const { return {data_, data_ == nullptr ? 0 : bytes_}; }

 private:
  std::byte* data_ = nullptr;
  size_t bytes_;
};

TEST(RegisteredHostMemoryTest, EmptyRegionIsRefusedAndDefaultHoldsNothing) {
  EXPECT_EQ(RegisteredHostMemory::Register({}).status().code(), StatusCode::kInvalidArgument);
  const RegisteredHostMemory none;
  EXPECT_TRUE(none.empty());
  std::byte b{};
  EXPECT_FALSE(none.Contains(std::span(&b, 1)));
}

TEST(RegisteredHostMemoryCudaTest, ScatterReadsTheMappingInPlace) {
  TIERKV_SKIP_WITHOUT_GPU();
  constexpr size_t kPageBytes = 16 * 1024;
  constexpr int kSlots = 8;
  SharedMapping mapping(kPageBytes * kSlots);
  ASSERT_FALSE(mapping.bytes().empty());
  std::mt19937_64 rng(5);
  for (std::byte& b : mapping.bytes()) b = static_cast<std::byte>(rng());

  auto registered = RegisteredHostMemory::Register(mapping.bytes());
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  EXPECT_TRUE(registered->Contains(mapping.bytes().subspan(kPageBytes, kPageBytes)));
  EXPECT_FALSE(
      registered->Contains(std::span(mapping.bytes().data() + kPageBytes * kSlots - 1, 2)));
  // Registered twice is refused; the first registration stays usable.
  EXPECT_FALSE(RegisteredHostMemory::Register(mapping.bytes()).ok());

  // Slots 5 and 2 into pages 0 and 1, one launch each, straight from the mapping.
  const std::vector<int32_t> pages = {0, 1};
  const int slots[] = {5, 2};
  DeviceBuffer d_pages = testing::Upload(pages);
  auto d_pool = DeviceBuffer::Allocate(kPageBytes * pages.size());
  ASSERT_TRUE(d_pool.ok());
  std::vector<std::byte> expected(kPageBytes * pages.size());
  for (size_t i = 0; i < pages.size(); ++i) {
    const std::byte* slot = mapping.bytes().data() + slots[i] * kPageBytes;
    KvBlockScatterRef(slot, kPageBytes, &pages[i], 1, expected.data());
    ASSERT_TRUE(KvBlockScatterCuda(registered->device_address(slot), kPageBytes,
                                   d_pages.as<int32_t>() + i, 1, d_pool->as<std::byte>(), nullptr)
                    .ok());
  }
  EXPECT_EQ(testing::Download<std::byte>(*d_pool, expected.size()), expected);
}

}  // namespace
}  // namespace tierkv::kernels
