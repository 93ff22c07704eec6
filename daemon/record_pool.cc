#include "daemon/record_pool.h"

#include <algorithm>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TIERKV_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TIERKV_ASAN 1
#endif
#ifdef TIERKV_ASAN
#include <sanitizer/asan_interface.h>
#define TIERKV_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TIERKV_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TIERKV_POISON(p, n) ((void)(p), (void)(n))
#define TIERKV_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace tierkv {

static_assert(RecordPool::kAlignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

RecordPool::RecordPool(size_t record_bytes)
    : record_bytes_(
          std::max(sizeof(FreeRecord), (record_bytes + kAlignment - 1) / kAlignment * kAlignment)),
      records_per_chunk_(std::max<size_t>(1, kChunkBytes / record_bytes_)) {}

RecordPool::~RecordPool() {
  // Chunks go back whole: unpoison them for whatever the heap does next.
  for (auto& chunk : chunks_) TIERKV_UNPOISON(chunk.get(), records_per_chunk_ * record_bytes_);
}

void* RecordPool::Allocate() {
  ++live_;
  if (free_list_) {
    FreeRecord* r = free_list_;
    free_list_ = r->next;
    TIERKV_UNPOISON(r, record_bytes_);
    return r;
  }
  if (chunks_.empty() || used_in_last_chunk_ == records_per_chunk_) {
    // Default-initialized: pages are touched only as records are handed out.
    chunks_.push_back(
        std::make_unique_for_overwrite<std::byte[]>(records_per_chunk_ * record_bytes_));
    used_in_last_chunk_ = 0;
  }
  return chunks_.back().get() + record_bytes_ * used_in_last_chunk_++;
}

void RecordPool::Free(void* record) {
  --live_;
  auto* r = static_cast<FreeRecord*>(record);
  r->next = free_list_;
  free_list_ = r;
  TIERKV_POISON(reinterpret_cast<std::byte*>(r) + sizeof(FreeRecord),
                record_bytes_ - sizeof(FreeRecord));
}

}  // namespace tierkv
