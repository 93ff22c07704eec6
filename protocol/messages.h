// Typed request and reply bodies of the tierkv protocol (see wire.h for framing).
//
// Each struct has Encode(Writer&) and a static Decode(Reader&, T*) that returns
// false on a malformed body. Decode bounds every count by what the body can
// hold, so a hostile length never makes the receiver allocate unbounded memory.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "protocol/wire.h"
#include "tierkv/keys.h"

namespace tierkv::wire {

// Bounds that decoding enforces.
inline constexpr uint32_t kMaxBlocksPerRequest = 4096;
inline constexpr uint32_t kMaxBlockTokens = 4096;
inline constexpr uint64_t kMaxBlockBytes = 64ull << 20;
inline constexpr size_t kMaxNameBytes = 1024;

// Offsets for blocks that need no write (already stored).
inline constexpr uint64_t kNoSlot = ~0ull;

// Request flags.
inline constexpr uint8_t kFlagPrefetch = 1;  // lookup: start promoting NVMe blocks now
inline constexpr uint8_t kFlagInline = 2;    // acquire/reserve: payload bytes travel in frames
// acquire: the client reads the GPU tier's pool (CUDA IPC): blocks with a GPU
// copy come as GPU offsets, and the others start copying up for next time.
// reserve: the blocks start copying up to the GPU tier once committed.
inline constexpr uint8_t kFlagGpu = 4;

struct HelloRequest {
  uint16_t min_version = kMinProtocolVersion;
  uint16_t max_version = kProtocolVersion;
  std::string client_name;
  std::string tenant_token;
  std::string admin_token;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, HelloRequest* out);
};

struct HelloReply {
  uint16_t version = kProtocolVersion;
  std::string server_version;
  uint8_t pool_fd_attached = 0;  // 1: the shared pool's fd came with this frame
  uint64_t pool_bytes = 0;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, HelloReply* out);
};

struct OpenNamespaceRequest {
  std::string model_fingerprint;
  std::string tenant;
  std::string adapter_id;
  std::string kv_dtype;
  std::string kv_layout;
  uint32_t block_tokens = 0;
  uint64_t block_bytes = 0;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, OpenNamespaceRequest* out);
};

struct OpenNamespaceReply {
  Key128 id;
  uint32_t handle = 0;
  uint32_t block_tokens = 0;
  uint64_t block_bytes = 0;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, OpenNamespaceReply* out);
};

// Keys and tokens travel as the raw bytes of their arrays: a key is lo then
// hi, each little-endian, exactly as Key128 lies in memory here.
static_assert(std::endian::native == std::endian::little, "the wire is little-endian");
static_assert(sizeof(Key128) == 2 * sizeof(uint64_t) && offsetof(Key128, hi) == sizeof(uint64_t));

// A run of consecutive blocks: their keys, the key before the first, and all
// their tokens (keys.size() * block_tokens ids). Lookup and acquire start at a
// prompt's first block, so their parent is the namespace id.
//
// Encoded as a head (parent, block count, tokens per block), then every key,
// then every token. A client that holds keys and tokens in arrays of its own
// writes the head with EncodeChainHead and sends KeyBytes and TokenBytes of
// its arrays as they are, without copying them.
struct BlockChain {
  Key128 parent;
  std::vector<Key128> keys;
  std::vector<TokenId> tokens;
  void Encode(Writer& w) const;
  // `block_tokens` comes from the namespace; tokens must be keys * block_tokens.
  static bool Decode(Reader& r, BlockChain* out);
};

void EncodeChainHead(Writer& w, const Key128& parent, uint32_t blocks, uint32_t block_tokens);
inline std::span<const std::byte> KeyBytes(std::span<const Key128> keys) {
  return std::as_bytes(keys);
}
inline std::span<const std::byte> TokenBytes(std::span<const TokenId> tokens) {
  return std::as_bytes(tokens);
}

struct LookupRequest {
  uint32_t ns_handle = 0;
  uint8_t flags = 0;
  BlockChain chain;
  // The fields before the chain.
  void EncodeFields(Writer& w) const;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, LookupRequest* out);
};

struct LookupReply {
  std::vector<uint8_t> tiers;  // one TierKind per matched block
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, LookupReply* out);
};

struct AcquireRequest {
  uint32_t ns_handle = 0;
  uint8_t flags = 0;
  uint32_t max_blocks = 0;
  BlockChain chain;
  // The fields before the chain.
  void EncodeFields(Writer& w) const;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, AcquireRequest* out);
};

// Acquire reply: lease id and, per block, its tier (TierKind: host, or gpu
// with kFlagGpu) and its offset in that tier's pool; with kFlagInline the
// blocks' bytes follow (count * block_bytes) and no lease is held.
struct AcquireReply {
  uint64_t lease_id = 0;
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> tiers;  // same length as offsets
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, AcquireReply* out);
};

struct IdRequest {  // release, commit, abort
  uint64_t id = 0;
  void Encode(Writer& w) const { w.U64(id); }
  static bool Decode(Reader& r, IdRequest* out) {
    out->id = r.U64();
    return r.done();
  }
};

// Reserve request: with kFlagInline the payloads (keys * block_bytes) follow
// the chain and the daemon commits at once.
struct ReserveRequest {
  uint32_t ns_handle = 0;
  uint8_t flags = 0;
  BlockChain chain;
  // The fields before the chain.
  void EncodeFields(Writer& w) const;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, ReserveRequest* out);
};

struct ReserveReply {
  uint64_t reservation_id = 0;    // 0 when nothing is left to commit
  std::vector<uint64_t> offsets;  // kNoSlot for blocks already stored
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, ReserveReply* out);
};

struct CountReply {  // commit, evict
  uint64_t count = 0;
  void Encode(Writer& w) const { w.U64(count); }
  static bool Decode(Reader& r, CountReply* out) {
    out->count = r.U64();
    return r.done();
  }
};

struct EvictRequest {
  uint8_t all = 0;
  uint32_t ns_handle = 0;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, EvictRequest* out);
};

struct TextReply {  // stats (a JSON document)
  std::string text;
  void Encode(Writer& w) const { w.Str(text); }
  static bool Decode(Reader& r, TextReply* out);
};

// gpu_pool reply: what an engine on the same GPU needs to open the GPU tier's
// pool (cudaIpcOpenMemHandle). Unavailable, with the reason, when the tier is off.
struct GpuPoolReply {
  int32_t device = 0;
  std::string pci_bus_id;
  std::string ipc_handle;  // cudaIpcMemHandle_t bytes
  uint64_t pool_bytes = 0;
  std::string description;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, GpuPoolReply* out);
};

struct HealthReply {
  uint8_t ok = 0;
  std::string version;
  std::string detail;
  void Encode(Writer& w) const;
  static bool Decode(Reader& r, HealthReply* out);
};

// Reply status: first field of every reply body.
void EncodeStatus(Writer& w, const Status& s);
Status DecodeStatus(Reader& r);

}  // namespace tierkv::wire
