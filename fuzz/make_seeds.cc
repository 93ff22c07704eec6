// Writes the fuzzers' seed corpora from real encoded requests:
//   tierkv_fuzz_seeds fuzz/corpus
// fuzz_protocol gets one frame per message type, fuzz_request_handler whole
// conversations (hello, open, reserve, commit, lookup, acquire, release...)
// whose keys are valid for the harness's fixed secret, fuzz_config a few
// config files.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/handler_harness.h"
#include "tierkv/keys.h"

namespace tierkv::fuzzing {
namespace {

using wire::MessageType;
namespace fs = std::filesystem;

constexpr uint32_t kBlockTokens = 4;
constexpr uint64_t kBlockBytes = 4096;

void WriteFile(const fs::path& path, const void* data, size_t size) {
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(data), size);
}

void WriteSeed(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(dir);
  WriteFile(dir / name, bytes.data(), bytes.size());
}

wire::OpenNamespaceRequest Spec(const std::string& tenant) {
  wire::OpenNamespaceRequest spec;
  spec.model_fingerprint = "fuzz-model";
  spec.tenant = tenant;
  spec.kv_dtype = "f16";
  spec.kv_layout = "nhd";
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = kBlockBytes;
  return spec;
}

wire::BlockChain Chain(const Key128& ns_id, uint32_t blocks, TokenId first) {
  wire::BlockChain chain;
  chain.parent = ns_id;
  for (uint32_t i = 0; i < blocks * kBlockTokens; ++i) chain.tokens.push_back(first + i);
  chain.keys = ChainBlockKeys(ns_id, chain.tokens, kBlockTokens);
  return chain;
}

std::vector<uint8_t> Hello(bool admin, bool tenant) {
  wire::HelloRequest hello;
  hello.client_name = "seed";
  if (admin) hello.admin_token = kAdminToken;
  if (tenant) hello.tenant_token = kTenantToken;
  std::vector<uint8_t> out;
  AppendMessage(MessageType::kHello, hello, &out);
  return out;
}

// Hello, open, an inline put, a slot put and commit, lookups, acquires and
// releases, stats, health, evict, flush.
std::vector<uint8_t> Conversation(const std::string& tenant, bool inline_put) {
  std::vector<uint8_t> out = Hello(true, true);
  const wire::OpenNamespaceRequest spec = Spec(tenant);
  AppendMessage(MessageType::kOpenNamespace, spec, &out);
  const Key128 ns_id = NamespaceIdFor(spec);
  const wire::BlockChain chain = Chain(ns_id, 3, 7);

  wire::ReserveRequest reserve;
  reserve.ns_handle = 1;
  reserve.chain = chain;
  if (inline_put) {
    reserve.flags = wire::kFlagInline;
    std::vector<uint8_t> body;
    wire::Writer w(&body);
    reserve.Encode(w);
    body.resize(body.size() + chain.keys.size() * kBlockBytes, 0x5a);
    AppendFrame(MessageType::kReserve, body, &out);
  } else {
    reserve.flags = wire::kFlagGpu;  // committed blocks also go up to the GPU tier
    AppendMessage(MessageType::kReserve, reserve, &out);
    AppendMessage(MessageType::kCommit, wire::IdRequest{1}, &out);
  }
  wire::LookupRequest lookup;
  lookup.ns_handle = 1;
  lookup.chain = chain;
  AppendMessage(MessageType::kLookup, lookup, &out);
  wire::AcquireRequest acquire;
  acquire.ns_handle = 1;
  acquire.max_blocks = 3;
  acquire.chain = chain;
  AppendMessage(MessageType::kAcquire, acquire, &out);
  acquire.flags = wire::kFlagGpu;  // copies the blocks up; the next one finds them there
  AppendMessage(MessageType::kAcquire, acquire, &out);
  AppendMessage(MessageType::kAcquire, acquire, &out);
  AppendFrame(MessageType::kGpuPool, {}, &out);
  acquire.flags = wire::kFlagInline;
  AppendMessage(MessageType::kAcquire, acquire, &out);
  AppendMessage(MessageType::kRelease, wire::IdRequest{inline_put ? 1u : 2u}, &out);
  // A reservation left open when the connection ends.
  reserve.flags = 0;
  reserve.chain = Chain(ns_id, 2, 1000);
  AppendMessage(MessageType::kReserve, reserve, &out);
  AppendFrame(MessageType::kStats, {}, &out);
  AppendFrame(MessageType::kHealth, {}, &out);
  wire::EvictRequest evict;
  evict.ns_handle = 1;
  AppendMessage(MessageType::kEvict, evict, &out);
  AppendFrame(MessageType::kFlush, {}, &out);
  AppendMessage(MessageType::kAbort, wire::IdRequest{3}, &out);
  return out;
}

// A reply frame to a `request` with status OK and `fields`.
template <typename T>
void AppendReplySeed(const fs::path& dir, const std::string& name, MessageType request,
                     const T& fields) {
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  wire::EncodeStatus(w, Status::Ok());
  fields.Encode(w);
  // The seed must be a reply the client accepts: its fields decode after the status.
  wire::Reader r(body);
  T decoded;
  if (!wire::DecodeStatus(r).ok() || !T::Decode(r, &decoded)) {
    std::fprintf(stderr, "seed %s does not decode\n", name.c_str());
    std::exit(1);
  }
  std::vector<uint8_t> frame;
  AppendFrame(static_cast<MessageType>(static_cast<uint16_t>(request) | wire::kReplyBit), body,
              &frame);
  WriteSeed(dir, name, frame);
}

void ProtocolSeeds(const fs::path& dir) {
  const Key128 ns_id = NamespaceIdFor(Spec("default"));
  const wire::BlockChain chain = Chain(ns_id, 2, 1);
  std::vector<uint8_t> f;
  f = Hello(true, true);
  WriteSeed(dir, "hello", f);
  f.clear();
  AppendMessage(MessageType::kOpenNamespace, Spec("acme"), &f);
  WriteSeed(dir, "open_namespace", f);
  f.clear();
  AppendMessage(MessageType::kLookup, wire::LookupRequest{1, wire::kFlagPrefetch, chain}, &f);
  WriteSeed(dir, "lookup", f);
  f.clear();
  AppendMessage(MessageType::kAcquire, wire::AcquireRequest{1, 0, 2, chain}, &f);
  WriteSeed(dir, "acquire", f);
  f.clear();
  AppendMessage(MessageType::kReserve, wire::ReserveRequest{1, 0, chain}, &f);
  WriteSeed(dir, "reserve", f);
  f.clear();
  AppendMessage(MessageType::kCommit, wire::IdRequest{1}, &f);
  WriteSeed(dir, "commit", f);
  f.clear();
  AppendMessage(MessageType::kEvict, wire::EvictRequest{1, 0}, &f);
  WriteSeed(dir, "evict", f);
  f.clear();
  AppendMessage(MessageType::kRelease, wire::IdRequest{7}, &f);
  WriteSeed(dir, "release", f);
  // Replies as the client reads them: a header, a status, then (on OK) the
  // fields; one seed per reply type, and one error reply.
  const Key128 some_key = chain.keys.back();
  AppendReplySeed(dir, "hello_reply", MessageType::kHello,
                  wire::HelloReply{wire::kProtocolVersion, "tierkvd 0.1.0", 1, 64ull << 20});
  AppendReplySeed(dir, "open_namespace_reply", MessageType::kOpenNamespace,
                  wire::OpenNamespaceReply{ns_id, 1, kBlockTokens, kBlockBytes});
  AppendReplySeed(dir, "lookup_reply", MessageType::kLookup, wire::LookupReply{{1, 1, 2}});
  AppendReplySeed(dir, "acquire_reply", MessageType::kAcquire,
                  wire::AcquireReply{7, {0, 4096, 8192}, {0, 1, 1}});
  AppendReplySeed(dir, "reserve_reply", MessageType::kReserve,
                  wire::ReserveReply{3, {0, wire::kNoSlot, 8192}});
  AppendReplySeed(dir, "count_reply", MessageType::kCommit, wire::CountReply{3});
  AppendReplySeed(dir, "stats_reply", MessageType::kStats, wire::TextReply{"{\"tiers\":[]}"});
  AppendReplySeed(dir, "health_reply", MessageType::kHealth,
                  wire::HealthReply{1, "tierkvd 0.1.0", "host tier 0/64 bytes used"});
  wire::GpuPoolReply gpu;
  gpu.device = 0;
  gpu.pci_bus_id = "0000:01:00.0";
  gpu.ipc_handle.assign(64, 0x11);
  gpu.pool_bytes = 2ull << 30;
  gpu.description = "seed device";
  AppendReplySeed(dir, "gpu_pool_reply", MessageType::kGpuPool, gpu);
  f.clear();
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  wire::EncodeStatus(w, Status::NotFound("no block " + ToHex(some_key)));
  AppendFrame(
      static_cast<MessageType>(static_cast<uint16_t>(MessageType::kAcquire) | wire::kReplyBit),
      body, &f);
  WriteSeed(dir, "error_reply", f);
}

void ConfigSeeds(const fs::path& dir) {
  fs::create_directories(dir);
  const std::string seeds[] = {
      "socket = \"/tmp/tierkv.sock\"\ntcp = \"127.0.0.1:7470\"\nhost_bytes = \"1GiB\"\n",
      "data_dir = \"/var/tmp/tierkv\"\nslab_bytes = 67108864\nnvme_bytes = 0\n"
      "nvme_sync_index = true\nlog_level = \"debug\"\n",
      "admin_token = \"s3cret\"\n[tenants]\nacme = \"t0k\"\nglobex = \"x\"\n",
      "host_bytes = \"12 parsecs\"\n",
  };
  int i = 0;
  for (const std::string& s : seeds)
    WriteFile(dir / ("seed" + std::to_string(i++)), s.data(), s.size());
}

}  // namespace
}  // namespace tierkv::fuzzing

int main(int argc, char** argv) {
  using namespace tierkv::fuzzing;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (e.g. fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  ProtocolSeeds(root / "fuzz_protocol");
  ConfigSeeds(root / "fuzz_config");
  WriteSeed(root / "fuzz_request_handler", "inline_conversation", Conversation("acme", true));
  WriteSeed(root / "fuzz_request_handler", "slot_conversation", Conversation("default", false));
  WriteSeed(root / "fuzz_request_handler", "wrong_tenant", [] {
    std::vector<uint8_t> out = Hello(false, false);
    AppendMessage(tierkv::wire::MessageType::kOpenNamespace, Spec("acme"), &out);
    AppendFrame(tierkv::wire::MessageType::kEvict, {0, 0, 0, 0, 0}, &out);
    return out;
  }());
  return 0;
}
