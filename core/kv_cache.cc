#include "core/kv_cache.h"

#include <string>
#include <utility>

namespace tierkv::core {

PagePool::PagePool(const KvCacheShape& shape, int n_pages)
    : shape_(shape),
      n_pages_(n_pages),
      storage_(static_cast<size_t>(shape.page_floats()) * n_pages) {
  free_.reserve(n_pages);
  for (int32_t p = n_pages - 1; p >= 0; --p) free_.push_back(p);
}

Result<int32_t> PagePool::Allocate() {
  if (free_.empty()) {
    return Status::ResourceExhausted("KV page pool exhausted: all " + std::to_string(n_pages_) +
                                     " pages in use");
  }
  const int32_t p = free_.back();
  free_.pop_back();
  return p;
}

void PagePool::Free(int32_t page) { free_.push_back(page); }

std::span<std::byte> PagePool::page_bytes(int32_t page) {
  return {reinterpret_cast<std::byte*>(storage_.data() + page * shape_.page_floats()),
          shape_.page_bytes()};
}

kernels::PagedKvLayer PagePool::layer(int layer) {
  const int64_t kv_floats = static_cast<int64_t>(shape_.block_tokens) * shape_.kv_dim;
  float* k = storage_.data() + layer * 2 * kv_floats;
  return {k, k + kv_floats, shape_.page_floats(), shape_.block_tokens, shape_.kv_dim};
}

KvSequence::KvSequence(KvSequence&& other) noexcept
    : pool_(other.pool_),
      block_table_(std::exchange(other.block_table_, {})),
      n_tokens_(std::exchange(other.n_tokens_, 0)) {}

KvSequence::~KvSequence() {
  // Freed last page first, so the pool's stack hands the head pages out first again.
  for (auto it = block_table_.rbegin(); it != block_table_.rend(); ++it) pool_->Free(*it);
}

Status KvSequence::Reserve(int n_tokens) {
  const int bt = pool_->shape().block_tokens;
  const size_t needed = static_cast<size_t>((n_tokens + bt - 1) / bt);
  while (block_table_.size() < needed) {
    auto page = pool_->Allocate();
    if (!page.ok()) return page.status();
    block_table_.push_back(*page);
  }
  return Status::Ok();
}

}  // namespace tierkv::core
