#include "tiers/nvme/testing/fault_injection_io_engine.h"

namespace tierkv::nvme::testing {

void FaultInjectionIoEngine::InjectError(IoOp op, int err, int times) {
  faults_[int(op)] = Fault{err, times};
}

void FaultInjectionIoEngine::Clear() { faults_[0] = faults_[1] = faults_[2] = Fault{}; }

int FaultInjectionIoEngine::Take(IoOp op) {
  ++submitted_[int(op)];
  Fault& f = faults_[int(op)];
  if (f.remaining == 0) return 0;
  if (f.remaining > 0) --f.remaining;
  ++injected_failures_;
  return f.err;
}

void FaultInjectionIoEngine::SubmitWrite(IoTarget target, const std::byte* src, size_t len,
                                         IoCallback done) {
  if (int err = Take(IoOp::kWrite)) {
    failed_.emplace_back(std::move(done), err);
    return;
  }
  if (holding_) {
    held_.push_back(HeldWrite{target, src, len, std::move(done)});
    held_count_.store(static_cast<int>(held_.size()));
    return;
  }
  target_->SubmitWrite(target, src, len, std::move(done));
}

void FaultInjectionIoEngine::ReleaseHeldWrites() {
  holding_ = false;
  std::vector<HeldWrite> held = std::move(held_);
  held_.clear();
  held_count_.store(0);
  for (HeldWrite& w : held) target_->SubmitWrite(w.target, w.src, w.len, std::move(w.done));
}

void FaultInjectionIoEngine::SubmitRead(IoTarget target, std::byte* dst, size_t len,
                                        IoCallback done) {
  if (int err = Take(IoOp::kRead)) {
    failed_.emplace_back(std::move(done), err);
    return;
  }
  target_->SubmitRead(target, dst, len, std::move(done));
}

void FaultInjectionIoEngine::SubmitSync(int fd, IoCallback done) {
  if (int err = Take(IoOp::kSync)) {
    failed_.emplace_back(std::move(done), err);
    return;
  }
  target_->SubmitSync(fd, std::move(done));
}

size_t FaultInjectionIoEngine::RunFailed() {
  std::vector<std::pair<IoCallback, int>> failed = std::move(failed_);
  failed_.clear();
  for (auto& [done, err] : failed) done(Status::FromErrno(err, "injected IO fault"));
  return failed.size();
}

size_t FaultInjectionIoEngine::ReapCompletions() {
  return RunFailed() + target_->ReapCompletions();
}

size_t FaultInjectionIoEngine::WaitAndReap() {
  if (!failed_.empty()) return ReapCompletions();
  return target_->WaitAndReap();
}

}  // namespace tierkv::nvme::testing
