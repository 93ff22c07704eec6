// An engine written in C++17, built out of tree against the installed
// libtierkv (find_package or pkg-config), through the C++ API. Usage:
// consumer_cxx ADDRESS; exit 0 when every check holds.
#include <tierkv/client.h>
#include <tierkv/tierkv.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kBlocks = 4;
constexpr uint32_t kBlockTokens = 16;
constexpr uint64_t kBlockBytes = 4096;

int Fail(const char* what, const tierkv::Status& s) {
  std::fprintf(stderr, "consumer_cxx: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer_cxx ADDRESS\n");
    return 2;
  }
  tierkv::ConnectOptions options;
  options.address = argv[1];
  auto client = tierkv::Client::Connect(options);
  if (!client.ok()) return Fail("connect", client.status());
  tierkv::NamespaceSpec spec;
  spec.model_fingerprint = "consumer-cxx";
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = kBlockBytes;
  auto ns = (*client)->OpenNamespace(spec);
  if (!ns.ok()) return Fail("open", ns.status());

  std::vector<tierkv::TokenId> tokens(kBlocks * kBlockTokens);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<tierkv::TokenId>(7 * i);
  const std::vector<tierkv::Key128> keys = tierkv::ChainBlockKeys(ns->id, tokens, kBlockTokens);
  std::vector<std::byte> payload(kBlocks * kBlockBytes, std::byte{0x5a});
  if (auto s = (*client)->Put(*ns, ns->id, keys, tokens, payload); !s.ok()) return Fail("put", s);
  auto hit = (*client)->Lookup(*ns, keys, tokens);
  if (!hit.ok() || hit->matched_blocks != kBlocks) return Fail("lookup", hit.status());
  std::vector<std::byte> out(payload.size());
  auto copied = (*client)->Get(*ns, keys, tokens, out);
  if (!copied.ok() || *copied != kBlocks || out != payload) return Fail("get", copied.status());
  auto lease = (*client)->Acquire(*ns, keys, tokens, kBlocks);
  if (!lease.ok() || lease->size() != kBlocks) return Fail("acquire", lease.status());
  tierkv::Span<const std::byte> block = lease->payload(3);
  if (std::memcmp(block.data(), payload.data(), block.size()) != 0) {
    return Fail("lease payload", tierkv::Status::Internal("bytes differ"));
  }
  if (auto s = lease->Release(); !s.ok()) return Fail("release", s);
  auto health = (*client)->GetHealth();
  if (!health.ok() || !health->ok) return Fail("health", health.status());
  std::printf("consumer_cxx: ok (%s, C++%ld, libtierkv %s)\n", argv[1], __cplusplus / 100 % 100,
              tierkv_version());
  return 0;
}
