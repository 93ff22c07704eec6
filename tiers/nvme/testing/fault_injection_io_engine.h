// FaultInjectionIoEngine: an IoEngine that fails chosen reads or writes with a
// chosen errno (EIO, ENOSPC) instead of passing them on, for tests only.
// A failed request never reaches the wrapped engine; its callback runs at the
// next reap like any other completion.
//
// Thread safety: like every IoEngine, one thread only.
#pragma once

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

  void SubmitWrite(IoTarget target, const std::byte* src, size_t len, IoCallback done) override;
  void SubmitRead(IoTarget target, std::byte* dst, size_t len, IoCallback done) override;
  void SubmitSync(int fd, IoCallback done) override;
  size_t ReapCompletions() override;
  size_t WaitAndReap() override;
  int event_fd() const override { return target_->event_fd(); }
  size_t outstanding() const override { return failed_.size() + target_->outstanding(); }
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

  std::unique_ptr<IoEngine> target_;
  Fault faults_[3];
  std::vector<std::pair<IoCallback, int>> failed_;
  int injected_failures_ = 0;
  int submitted_[3] = {};
};

}  // namespace tierkv::nvme::testing
