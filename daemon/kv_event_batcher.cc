#include "daemon/kv_event_batcher.h"

#include <utility>

namespace tierkv {

KvEventBatcher::KvEventBatcher(Schedule schedule, Sink sink)
    : schedule_(std::move(schedule)), sink_(std::move(sink)) {}

void KvEventBatcher::OnCopyAdded(const BlockEntry& e, Medium medium) {
  const auto tokens = e.tokens();
  KvEvent* last = batch_.empty() ? nullptr : &batch_.back();
  const bool continues_run = last && last->kind == KvEvent::Kind::kStored &&
                             last->medium == medium && last->hashes.back() == e.parent &&
                             last->block_tokens == tokens.size();
  if (!continues_run) {
    KvEvent stored;
    stored.kind = KvEvent::Kind::kStored;
    stored.medium = medium;
    stored.parent = e.parent;
    stored.block_tokens = static_cast<uint32_t>(tokens.size());
    batch_.push_back(std::move(stored));
    last = &batch_.back();
  }
  last->hashes.push_back(e.key);
  last->tokens.insert(last->tokens.end(), tokens.begin(), tokens.end());
  Added(1);
}

void KvEventBatcher::OnCopyRemoved(const BlockEntry& e, Medium medium) {
  const bool continues = !batch_.empty() && batch_.back().kind == KvEvent::Kind::kRemoved &&
                         batch_.back().medium == medium;
  if (!continues) {
    KvEvent removed;
    removed.kind = KvEvent::Kind::kRemoved;
    removed.medium = medium;
    batch_.push_back(std::move(removed));
  }
  batch_.back().hashes.push_back(e.key);
  Added(1);
}

void KvEventBatcher::OnAllCleared() {
  KvEvent cleared;
  cleared.kind = KvEvent::Kind::kAllCleared;
  batch_.push_back(std::move(cleared));
  Added(0);
}

void KvEventBatcher::Added(size_t blocks) {
  batch_blocks_ += blocks;
  if (batch_blocks_ >= kMaxBatchBlocks) {
    Flush();
    return;
  }
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    schedule_([this] {
      flush_scheduled_ = false;
      Flush();
    });
  }
}

void KvEventBatcher::Flush() {
  if (batch_.empty()) return;
  batch_blocks_ = 0;
  sink_(std::exchange(batch_, {}));
}

}  // namespace tierkv
