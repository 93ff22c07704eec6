// NvmeStoreFixture: tiny verbs over an NvmeStore in a temporary directory, so
// store tests read as short scripts (Open, Put, ExpectBlock, Remove, Reopen).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tiers/nvme/nvme_store.h"
#include "tiers/nvme/testing/temp_dir.h"
#include "tiers/nvme/testing/test_blocks.h"

namespace tierkv::nvme::testing {

class NvmeStoreFixture : public ::testing::Test {
 public:
  static constexpr size_t kBlock = 16 * 1024;

 protected:
  // Small slabs and staging buffers keep the tests fast.
  static NvmeStoreOptions SmallOptions(uint64_t capacity = 1 << 20) {
    NvmeStoreOptions o;
    o.capacity_bytes = capacity;
    o.slab_bytes = 64 * 1024;
    o.max_block_bytes = 64 * 1024;
    o.queue_depth = 4;
    return o;
  }

  std::string StoreDir() const { return dir_.Sub("tier"); }

  // Opens the store (closing any open one first); records what Open loaded.
  void Open(NvmeStoreOptions options = SmallOptions(), std::unique_ptr<IoEngine> engine = nullptr) {
    store_.reset();
    loaded_.clear();
    LoadCallbacks load;
    load.visit = [this](const BlockRecord& r) { loaded_.push_back(r); };
    Result<std::unique_ptr<NvmeStore>> store =
        engine ? NvmeStore::Open(StoreDir(), options, load, std::move(engine))
               : NvmeStore::Open(StoreDir(), options, load);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  Status Put(uint64_t i, size_t len = kBlock) {
    payloads_.push_back(TestPayload(i, len));
    return WriteBlocking(*store_, TestMeta(i), payloads_.back());
  }

  Status Get(uint64_t i, std::vector<std::byte>* out) {
    Result<uint32_t> len = store_->Length(TestKey(i));
    if (!len.ok()) return len.status();
    out->assign(*len, std::byte{0});
    return ReadBlocking(*store_, TestKey(i), *out);
  }

  // Expects block i to be stored and byte-exact.
  void ExpectBlock(uint64_t i, size_t len = kBlock) {
    std::vector<std::byte> out;
    Status s = Get(i, &out);
    ASSERT_TRUE(s.ok()) << "block " << i << ": " << s.ToString();
    EXPECT_TRUE(out == TestPayload(i, len)) << "block " << i << " differs";
  }

  TempDir dir_;
  std::unique_ptr<NvmeStore> store_;
  std::vector<BlockRecord> loaded_;
  std::vector<std::vector<std::byte>> payloads_;  // kept alive for in-flight writes
};

}  // namespace tierkv::nvme::testing
