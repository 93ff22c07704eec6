// Writes the fuzzers' seed corpora from real encoded requests:
//   tierkv_fuzz_seeds fuzz/corpus
// fuzz_protocol gets one frame per message type, fuzz_request_handler whole
// conversations (hello, open, reserve, commit, lookup, acquire, release...)
// whose keys are valid for the harness's fixed secret, fuzz_config a few
// config files.
#include <cstdio>
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
  wire::Writer w(&f);
  f.resize(wire::kHeaderBytes);
  wire::EncodeStatus(w, Status::NotFound("no such block"));
  wire::AcquireReply{7, {0, 4096, 8192}, {2, 2, 1}}.Encode(w);
  WriteSeed(dir, "acquire_reply", f);
  f.assign(wire::kHeaderBytes, 0);
  wire::HealthReply{1, "0.1.0", "ok"}.Encode(w);
  WriteSeed(dir, "health_reply", f);
  f.assign(wire::kHeaderBytes, 0);
  wire::TextReply{"{\"tiers\":[]}"}.Encode(w);
  WriteSeed(dir, "stats_reply", f);
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
