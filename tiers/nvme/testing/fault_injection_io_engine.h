// FaultInjectionIoEngine: an IoEngine that fails chosen reads or writes with a
// chosen errno (EIO, ENOSPC) instead of passing them on, or holds writes back
// (a slow disk), for tests only. A failed request never reaches the wrapped
// engine; its callback runs at the next reap like any other completion. A held
// write reaches it only when ReleaseHeldWrites() is called.
//
// Thread safety: like every IoEngine, one thread only, except held_writes(),
// which any thread may read.
#pragma once

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "tiers/nvme/io_engine.h"

namespace tierkv::nvme::testing {

enum class IoOp { kRead, kWrite, kSync };

class FaultInjectionIoEngine final : public IoEngine {
 public:
  static constexpr int kForever = -1;

  explicit FaultInjectionIoEngine(std::unique_ptr<IoEngine> target) : target_(std::move(target)) {}

  // The next `times` requests of kind `op` (all of them with kForever) fail with `err`.
  void InjectError(IoOp op, int err, int times = kForever);
  void Clear();
  int injected_failures() const { return injected_failures_; }
  // Requests of kind `op` submitted so far, failed ones included.
  int submitted(IoOp op) const { return submitted_[int(op)]; }

  // From now on, payload writes wait in this engine instead of going to the
  // disk, until ReleaseHeldWrites() submits every held write and stops
  // holding. Release them before Drain(): nothing completes a held write.
  void HoldWrites() { holding_ = true; }
  void ReleaseHeldWrites();
  // Writes held now.
  int held_writes() const { return held_count_.load(); }

  void SubmitWrite(IoTarget target, const std::byte* src, size_t len, IoCallback done) override;
  void SubmitRead(IoTarget target, std::byte* dst, size_t len, IoCallback done) override;
  void SubmitSync(int fd, IoCallback done) override;
  size_t ReapCompletions() override;
  size_t WaitAndReap() override;
  int event_fd() const override { return target_->event_fd(); }
  size_t outstanding() const override {
    return failed_.size() + held_.size() + target_->outstanding();
  }
  size_t in_flight() const override { return target_->in_flight(); }
  size_t max_io_bytes() const override { return target_->max_io_bytes(); }

 private:
  struct Fault {
    int err = 0;
    int remaining = 0;
  };
  // Returns the errno to fail a request of kind `op` with, or 0.
  int Take(IoOp op);
  size_t RunFailed();

  struct HeldWrite {
    IoTarget target;
    const std::byte* src = nullptr;
    size_t len = 0;
    IoCallback done;
  };

  std::unique_ptr<IoEngine> target_;
  Fault faults_[3];
  std::vector<std::pair<IoCallback, int>> failed_;
  bool holding_ = false;
  std::vector<HeldWrite> held_;
  std::atomic<int> held_count_ = 0;
  int injected_failures_ = 0;
  int submitted_[3] = {};
};

}  // namespace tierkv::nvme::testing
