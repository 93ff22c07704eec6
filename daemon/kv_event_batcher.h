// Turns the store's per-copy notices (StoreObserver) into KV event batches
// on the event-loop thread, cheaply: a notice appends a hash (and, for a
// store, its tokens) to the batch being built; consecutive blocks of one chain
// stored on one medium become one BlockStored, consecutive removals from one
// medium one BlockRemoved. A batch ends with the event-loop turn that started
// it (the first notice schedules its hand-off) or when it holds
// kMaxBatchBlocks blocks, and goes to the sink (the publisher) whole, in order.
//
// Thread safety: none; the event-loop thread only.
#pragma once

#include <functional>
#include <vector>

#include "daemon/kv_event.h"
#include "daemon/store_observer.h"

namespace tierkv {

class KvEventBatcher final : public StoreObserver {
 public:
  // A batch this large (in blocks) is handed off at once.
  static constexpr size_t kMaxBatchBlocks = 4096;

  using Schedule = std::function<void(std::function<void()>)>;
  using Sink = std::function<void(std::vector<KvEvent>)>;

  // `schedule` runs its argument on the event loop after the current work
  // (boost::asio::post); `sink` receives every finished batch.
  KvEventBatcher(Schedule schedule, Sink sink);

  void OnCopyAdded(const BlockEntry& e, Medium medium) override;
  void OnCopyRemoved(const BlockEntry& e, Medium medium) override;
  void OnAllCleared() override;

  // Hands the batch being built to the sink now (at shutdown).
  void Flush();

 private:
  void Added(size_t blocks);

  Schedule schedule_;
  Sink sink_;
  std::vector<KvEvent> batch_;
  size_t batch_blocks_ = 0;
  bool flush_scheduled_ = false;
};

}  // namespace tierkv
