#include "fuzz/handler_harness.h"

#include <cstdlib>
#include <memory>

#include "daemon/block_store.h"
#include "daemon/connection_resources.h"
#include "daemon/namespace_registry.h"
#include "daemon/request_handler.h"
#include "tiers/gpu/testing/host_backed_device_memory.h"
#include "tiers/host/host_tier.h"

namespace tierkv::fuzzing {
namespace {

// The pool is created once: mapping and faulting in a memfd per input would
// dominate the run time. Every input leaves it empty again (checked).
HostTier& Pool() {
  static HostTier* pool = [] {
    auto host = HostTier::Create(kPoolBytes, kSlabBytes);
    if (!host.ok()) std::abort();
    return host->release();
  }();
  return *pool;
}

// A GPU tier over host-backed test memory, so the GPU paths (acquire with
// kFlagGpu, gpu_pool, copies up) are fuzzed too; created once like the pool.
GpuTier& Gpu() {
  static GpuTier* gpu = [] {
    auto tier = GpuTier::Create(std::make_unique<testing::HostBackedDeviceMemory>(kPoolBytes / 4),
                                kSlabBytes);
    if (!tier.ok()) std::abort();
    return tier->release();
  }();
  return *gpu;
}

NamespaceRegistry MakeRegistry() {
  return NamespaceRegistry(kSecret, {{kTenant, kTenantToken}}, kSlabBytes);
}

// A reply must be one whole frame: reply bit set, body length as sent, and a
// status that decodes.
void CheckReply(const wire::FrameHeader& request, std::span<const uint8_t> reply) {
  if (reply.size() < wire::kHeaderBytes) std::abort();
  const wire::FrameHeader h = wire::DecodeHeader(reply.data());
  if (h.type != (request.type | wire::kReplyBit) || h.request_id != request.request_id) {
    std::abort();
  }
  if (h.body_bytes != reply.size() - wire::kHeaderBytes) std::abort();
  wire::Reader r(reply.subspan(wire::kHeaderBytes));
  if (wire::DecodeStatus(r).code() == StatusCode::kProtocolError && !r.ok()) std::abort();
}

// What holds after every request, not only when the connection ends: leases
// are the only pins (this is the only connection), and no pool is over-full.
void CheckBetweenRequests(const BlockStore& store, const ConnectionResources& conn,
                          const HostTier& pool, const GpuTier& gpu) {
  if (conn.lease_count() == 0 && store.counters().pinned_blocks != 0) std::abort();
  if (pool.used_bytes() > pool.capacity_bytes()) std::abort();
  if (gpu.used_bytes() > gpu.capacity_bytes()) std::abort();
}

}  // namespace

void RunFrames(std::span<const uint8_t> frames) {
  HostTier& pool = Pool();
  NamespaceRegistry registry = MakeRegistry();
  BlockStore store(&pool);
  GpuTier& gpu = Gpu();
  store.AttachGpu(&gpu);
  RequestHandler handler(&store, &registry, {kAdminToken, "fuzz", ""});
  auto conn = std::make_shared<ConnectionResources>(&store, /*local=*/true);
  std::vector<uint8_t> deferred;
  conn->set_deliver([&deferred](std::vector<uint8_t> reply) { deferred = std::move(reply); });

  while (frames.size() >= wire::kHeaderBytes) {
    const wire::FrameHeader h = wire::DecodeHeader(frames.data());
    if (!wire::ValidateHeader(h).ok()) break;                      // the session closes here
    if (h.body_bytes > frames.size() - wire::kHeaderBytes) break;  // waits for more
    const auto body = frames.subspan(wire::kHeaderBytes, h.body_bytes);
    frames = frames.subspan(wire::kHeaderBytes + h.body_bytes);
    std::vector<uint8_t> reply;
    int fd = -1;
    deferred.clear();
    if (handler.Handle(*conn, h, body, &reply, &fd) == RequestHandler::Outcome::kDeferred) {
      reply = std::move(deferred);
    }
    if (!reply.empty()) CheckReply(h, reply);
    store.ReapGpu();  // as the event loop does between requests
    CheckBetweenRequests(store, *conn, pool, gpu);
  }
  conn.reset();  // the connection closes: its pins and reservations go
  if (store.counters().pinned_blocks != 0) std::abort();
  store.DrainGpu();
  store.Evict(nullptr);
  if (pool.used_bytes() != 0) std::abort();  // pool space leaked
  if (gpu.used_bytes() != 0) std::abort();   // GPU space leaked
}

void AppendFrame(wire::MessageType type, const std::vector<uint8_t>& body,
                 std::vector<uint8_t>* out) {
  wire::FrameHeader h;
  h.type = static_cast<uint16_t>(type);
  h.request_id = static_cast<uint32_t>(out->size());
  h.body_bytes = static_cast<uint32_t>(body.size());
  const size_t at = out->size();
  out->resize(at + wire::kHeaderBytes);
  wire::EncodeHeader(h, out->data() + at);
  out->insert(out->end(), body.begin(), body.end());
}

Key128 NamespaceIdFor(const wire::OpenNamespaceRequest& spec) { return MakeRegistry().IdFor(spec); }

}  // namespace tierkv::fuzzing
