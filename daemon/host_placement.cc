#include "daemon/host_placement.h"

#include <cstring>

namespace tierkv {

LruList<BlockEntry>& HostPlacement::Lru(uint32_t size_class) {
  while (lru_by_class_.size() <= size_class) {
    lru_by_class_.push_back(std::make_unique<LruList<BlockEntry>>());
  }
  return *lru_by_class_[size_class];
}

void HostPlacement::CopyIn(const BlockEntry& e, std::span<const uint8_t> src) const {
  std::memcpy(Payload(e).data(), src.data(), e.bytes);
}

void HostPlacement::CopyOut(std::span<const BlockEntry* const> entries, uint8_t* out) const {
  for (const BlockEntry* e : entries) {
    std::memcpy(out, Payload(*e).data(), e->bytes);
    out += e->bytes;
  }
}

}  // namespace tierkv
