// The paged KV cache: a pool of fixed-size pages and per-sequence block tables.
//
// One page holds block_tokens tokens of K and V for every layer, laid out
//   [layer][K | V][token][n_head_kv * head_dim]   (KV dtype, kernels/kv_dtype.h)
// which is byte for byte the payload of one block in tierkvd: a page goes to
// or comes from the daemon with a single copy. page_bytes = n_layers * 2 *
// block_tokens * KvRowBytes(dtype, kv_dim): kv_dim * 4 bytes a row in f32,
// * 2 in f16 and bf16, * 34 / 32 in q8_0.
//
// Thread safety: none; a PagePool and its sequences belong to one engine thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/paged_kv.h"
#include "tierkv/status.h"

namespace tierkv::core {

struct KvCacheShape {
  int n_layers = 0;
  int kv_dim = 0;  // n_head_kv * head_dim
  int block_tokens = 0;
  kernels::KvDtype dtype = kernels::KvDtype::kF16;

  size_t row_bytes() const { return kernels::KvRowBytes(dtype, kv_dim); }
  size_t page_bytes() const {
    return static_cast<size_t>(n_layers) * 2 * block_tokens * row_bytes();
  }
};

class PagePool {
 public:
  PagePool(const KvCacheShape& shape, int n_pages);
  PagePool(const PagePool&) = delete;
  PagePool& operator=(const PagePool&) = delete;

  const KvCacheShape& shape() const { return shape_; }
  int n_pages() const { return n_pages_; }
  int free_pages() const { return static_cast<int>(free_.size()); }

  // ResourceExhausted when every page is in use.
  Result<int32_t> Allocate();
  void Free(int32_t page);

  std::span<std::byte> page_bytes(int32_t page);
  // Where layer `layer`'s K and V sit in the pool, for the attention kernels.
  kernels::PagedKv layer(int layer);

 private:
  KvCacheShape shape_;
  int n_pages_;
  std::vector<std::byte> storage_;
  std::vector<int32_t> free_;  // a stack: recently freed pages are reused first (warm in cache)
};

// One sequence's view of the pool: its block table and how many positions
// hold valid K/V. Returns its pages to the pool when destroyed. Move-only.
class KvSequence {
 public:
  explicit KvSequence(PagePool* pool) : pool_(pool) {}
  KvSequence(KvSequence&& other) noexcept;
  KvSequence& operator=(KvSequence&&) = delete;
  KvSequence(const KvSequence&) = delete;
  KvSequence& operator=(const KvSequence&) = delete;
  ~KvSequence();

  // Makes the block table cover `n_tokens` positions, allocating pages.
  Status Reserve(int n_tokens);

  int n_tokens() const { return n_tokens_; }
  // Positions [0, n) hold valid K/V; n must be covered by Reserve().
  void set_n_tokens(int n) { n_tokens_ = n; }
  const std::vector<int32_t>& block_table() const { return block_table_; }
  PagePool& pool() { return *pool_; }

 private:
  PagePool* pool_;
  std::vector<int32_t> block_table_;
  int n_tokens_ = 0;
};

}  // namespace tierkv::core
