// The test fixture BlockStore tests share: a small host tier in 1 MiB slabs,
// one namespace of 4-token, 64 KiB blocks, chains of blocks and puts.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/block_store.h"

namespace tierkv::testing {

class BlockStoreFixture : public ::testing::Test {
 public:
  static constexpr uint32_t kBlockTokens = 4;
  static constexpr uint64_t kBlockBytes = 64 * 1024;
  static constexpr uint64_t kSlab = 1 << 20;  // 16 blocks per slab

 protected:
  void SetUp() override { MakeStore(2 * kSlab); }

  // A fresh store over a host tier of `pool_bytes`; AttachTiers() then adds
  // what a test needs beside it.
  void MakeStore(uint64_t pool_bytes) {
    store_.reset();
    host_ = std::move(HostTier::Create(pool_bytes, kSlab)).value();
    registry_ = std::make_unique<NamespaceRegistry>("secret", std::map<std::string, std::string>{},
                                                    kSlab);
    wire::OpenNamespaceRequest spec;
    spec.model_fingerprint = "m";
    spec.tenant = "default";
    spec.kv_dtype = "f16";
    spec.block_tokens = kBlockTokens;
    spec.block_bytes = kBlockBytes;
    ns_ = *registry_->Open(spec, {});
    store_ = std::make_unique<BlockStore>(host_.get(), cleaning_);
    AttachTiers();
  }
  virtual void AttachTiers() {}

  // A chain of `blocks` blocks whose tokens start at `first_token`.
  wire::BlockChain Chain(size_t blocks, TokenId first_token = 0) {
    wire::BlockChain c;
    c.parent = ns_->id;
    for (size_t i = 0; i < blocks * kBlockTokens; ++i) c.tokens.push_back(first_token + i);
    c.keys = ChainBlockKeys(ns_->id, c.tokens, kBlockTokens);
    return c;
  }

  // Reserves a chain's blocks, expecting the answer at once (no wait for
  // room); fails the test otherwise.
  Result<BlockStore::Reserved> Reserve(const wire::BlockChain& c) {
    auto now = store_->Reserve(*ns_, c, {}, [](Result<BlockStore::Reserved>) {
      ADD_FAILURE() << "a reserve that was answered at once completed again";
    });
    if (!now) {
      ADD_FAILURE() << "the reserve waits for room";
      return Status::Unavailable("the reserve waits for room");
    }
    return std::move(*now);
  }

  // The reserved (non-null) entries of a reserve.
  static std::vector<BlockEntry*> Slots(const BlockStore::Reserved& reserved) {
    std::vector<BlockEntry*> out;
    for (BlockEntry* e : reserved) {
      if (e) out.push_back(e);
    }
    return out;
  }

  // Stores a chain, filling each payload with its block index + fill.
  void Put(const wire::BlockChain& c, uint8_t fill = 0) {
    auto entries = Reserve(c);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    for (size_t i = 0; i < entries->size(); ++i) {
      if (BlockEntry* e = (*entries)[i]) {
        std::memset(host_->At(e->host_slot.offset), static_cast<int>(i + fill), kBlockBytes);
      }
    }
    store_->Commit(Slots(*entries));
  }

  std::vector<BlockEntry*> Match(const wire::BlockChain& c) {
    return store_->Match(*ns_, c, static_cast<uint32_t>(c.keys.size()));
  }
  size_t Matched(const wire::BlockChain& c) { return Match(c).size(); }

  CleaningOptions cleaning_;  // set before SetUp to change it
  std::unique_ptr<HostTier> host_;
  std::unique_ptr<NamespaceRegistry> registry_;
  NamespaceInfo* ns_ = nullptr;
  std::unique_ptr<BlockStore> store_;
};

}  // namespace tierkv::testing
