#include "tiers/nvme/io_engine.h"

#include <optional>

namespace tierkv::nvme {
namespace {

Status Await(IoEngine& engine, const std::optional<Status>& result) {
  while (!result.has_value()) {
    if (engine.WaitAndReap() == 0 && engine.outstanding() == 0 && !result.has_value()) {
      return Status::Internal("IO engine lost a request");
    }
  }
  return *result;
}

}  // namespace

Status WriteBlocking(IoEngine& engine, IoTarget target, const std::byte* src, size_t len) {
  std::optional<Status> result;
  engine.SubmitWrite(target, src, len, [&result](Status s) { result = std::move(s); });
  return Await(engine, result);
}

Status ReadBlocking(IoEngine& engine, IoTarget target, std::byte* dst, size_t len) {
  std::optional<Status> result;
  engine.SubmitRead(target, dst, len, [&result](Status s) { result = std::move(s); });
  return Await(engine, result);
}

}  // namespace tierkv::nvme
