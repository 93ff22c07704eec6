#include "daemon/residency.h"

#include "base/check.h"

namespace tierkv {

TierKind Residency::fastest() const {
  if (on_gpu()) return TierKind::kGpu;
  if (on_host()) return TierKind::kHost;
  if (on_nvme()) return TierKind::kNvme;
  return TierKind::kNone;
}

void Residency::Commit() {
  TIERKV_CHECK(host_ == Host::kReserved, "only a reserved block is committed");
  host_ = Host::kResident;
}

void Residency::DropHostCopy() {
  TIERKV_CHECK(host_ == Host::kResident && nvme_ == Nvme::kDurable && gpu_ == Gpu::kNone,
               "a host copy leaves only when NVMe holds the block and no GPU copy is left");
  host_ = Host::kNone;
}

void Residency::BeginPromotion() {
  TIERKV_CHECK(host_ == Host::kNone && nvme_ == Nvme::kDurable,
               "only a block that is on NVMe alone is promoted");
  host_ = Host::kPromoting;
}

void Residency::EndPromotion(bool ok) {
  TIERKV_CHECK(host_ == Host::kPromoting, "no promotion in flight");
  host_ = ok ? Host::kResident : Host::kNone;
}

void Residency::BeginDemotion() {
  TIERKV_CHECK(host_ == Host::kResident && nvme_ == Nvme::kNone,
               "only a ready host copy without an NVMe copy is written to NVMe");
  nvme_ = Nvme::kWriting;
}

void Residency::EndDemotion(bool durable) {
  TIERKV_CHECK(nvme_ == Nvme::kWriting, "no NVMe write in flight");
  nvme_ = durable ? Nvme::kDurable : Nvme::kNone;
}

void Residency::AdoptNvmeCopy() {
  TIERKV_CHECK(host_ == Host::kResident && nvme_ == Nvme::kNone,
               "an NVMe copy is adopted only by a host block without one");
  nvme_ = Nvme::kDurable;
}

void Residency::BeginGpuFill() {
  TIERKV_CHECK(host_ == Host::kResident && gpu_ == Gpu::kNone,
               "a GPU copy is made only from a resident host copy");
  gpu_ = Gpu::kFilling;
}

void Residency::EndGpuFill(bool ok) {
  TIERKV_CHECK(gpu_ == Gpu::kFilling, "no GPU copy in flight");
  gpu_ = ok ? Gpu::kResident : Gpu::kNone;
}

void Residency::DropGpuCopy() {
  TIERKV_CHECK(gpu_ == Gpu::kResident, "no GPU copy to drop");
  gpu_ = Gpu::kNone;
}

void Residency::BeginRemoteWrite() {
  TIERKV_CHECK(host_ == Host::kResident && remote_ == Remote::kNone,
               "a remote write copies a resident host copy of a block not written yet");
  remote_ = Remote::kWriting;
}

void Residency::EndRemoteWrite(bool stored) {
  TIERKV_CHECK(remote_ == Remote::kWriting, "no remote write in flight");
  remote_ = stored ? Remote::kStored : Remote::kNone;
}

void Residency::AdoptRemoteCopy() {
  TIERKV_CHECK(remote_ == Remote::kNone, "a remote copy is adopted only by a block without one");
  remote_ = Remote::kStored;
}

}  // namespace tierkv
