#include "core/kv_cache.h"

#include <string>
#include <utility>

namespace tierkv::core {

PagePool::PagePool(const KvCacheShape& shape, int n_pages)
    : shape_(shape), n_pages_(n_pages), storage_(shape.page_bytes() * n_pages) {
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
  return {storage_.data() + static_cast<size_t>(page) * shape_.page_bytes(), shape_.page_bytes()};
}

kernels::PagedKv PagePool::layer(int layer) {
  const size_t rows_bytes = static_cast<size_t>(shape_.block_tokens) * shape_.row_bytes();
  std::byte* k = storage_.data() + static_cast<size_t>(layer) * 2 * rows_bytes;
  const int64_t page_units =
      static_cast<int64_t>(shape_.page_bytes() / kernels::KvUnitBytes(shape_.dtype));
  return {k, k + rows_bytes, page_units, shape_.block_tokens, shape_.kv_dim, shape_.dtype};
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
