// The C ABI (tierkv/tierkv.h) against a real tierkvd, over the Unix socket
// and over TCP: every call, and every refusal the header documents. Each
// refusal is checked to leave the stored blocks as they were.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/daemon_process.h"
#include "tierkv/tierkv.h"

namespace tierkv::testing {
namespace {

constexpr uint32_t kBlockTokens = 16;
constexpr uint64_t kBlockBytes = 64 * 1024;
constexpr size_t kBlocks = 6;
constexpr uint64_t kPoolBytes = 64ull << 20;  // DaemonProcess's --host-bytes
// Evict and flush over TCP need the admin token (docs/security.md).
constexpr char kFixtureAdminToken[] = "c-api-admin";

std::string LastError() { return tierkv_last_error(); }

tierkv_namespace_spec Spec(const char* model = "c-api-model") {
  tierkv_namespace_spec spec;
  tierkv_namespace_spec_init(&spec);
  spec.model_fingerprint = model;
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = kBlockBytes;
  return spec;
}

class CApiDaemonTest : public ::testing::TestWithParam<bool> {  // true: over TCP
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonProcess>(
        std::vector<std::string>{"--admin-token", kFixtureAdminToken});
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
    client_ = Connect();
    ASSERT_NE(client_, nullptr);
    const tierkv_namespace_spec spec = Spec();
    ASSERT_EQ(tierkv_open_namespace(client_, &spec, &ns_), TIERKV_OK) << LastError();
    for (size_t i = 0; i < kBlocks * kBlockTokens; ++i) tokens_.push_back(i * 7 + 3);
    keys_.resize(kBlocks);
    size_t n_keys = 0;
    ASSERT_EQ(tierkv_chain_keys(&ns_, nullptr, tokens_.data(), tokens_.size(), keys_.data(),
                                kBlocks, &n_keys),
              TIERKV_OK);
    ASSERT_EQ(n_keys, kBlocks);
    payload_.resize(kBlocks * kBlockBytes);
    for (size_t i = 0; i < payload_.size(); ++i) payload_[i] = static_cast<uint8_t>(i * 31 + 5);
  }
  void TearDown() override { tierkv_close(client_); }

  std::string Address() const {
    return GetParam() ? daemon_->tcp_address() : daemon_->socket_path();
  }
  tierkv_client* Connect() {
    const std::string address = Address();
    tierkv_connect_options options;
    tierkv_connect_options_init(&options);
    options.address = address.c_str();
    options.admin_token = kFixtureAdminToken;
    tierkv_client* c = nullptr;
    EXPECT_EQ(tierkv_connect_with(&options, &c), TIERKV_OK) << LastError();
    return c;
  }
  // The test namespace opened on `c`: a handle is usable only on the
  // connection that opened it.
  tierkv_namespace OpenOn(tierkv_client* c) {
    const tierkv_namespace_spec spec = Spec();
    tierkv_namespace ns{};
    EXPECT_EQ(tierkv_open_namespace(c, &spec, &ns), TIERKV_OK) << LastError();
    return ns;
  }
  const uint32_t* Tokens(size_t block) const { return tokens_.data() + block * kBlockTokens; }
  const uint8_t* Bytes(size_t block) const { return payload_.data() + block * kBlockBytes; }

  // Stores the first `n` blocks.
  void Put(size_t n) {
    ASSERT_EQ(tierkv_put(client_, &ns_, ns_.id, keys_.data(), n, tokens_.data(), payload_.data(),
                         n * kBlockBytes),
              TIERKV_OK)
        << LastError();
  }
  uint32_t Matched(tierkv_client* c = nullptr) {
    const tierkv_namespace ns = c ? OpenOn(c) : ns_;
    uint32_t matched = 0;
    EXPECT_EQ(tierkv_lookup(c ? c : client_, &ns, keys_.data(), kBlocks, tokens_.data(), 0,
                            &matched, nullptr),
              TIERKV_OK)
        << LastError();
    return matched;
  }
  nlohmann::json Stats() {
    size_t bytes = 0;
    EXPECT_EQ(tierkv_stats_json(client_, nullptr, 0, &bytes), TIERKV_INVALID_ARGUMENT);
    std::string json(bytes + 1, '\0');
    EXPECT_EQ(tierkv_stats_json(client_, json.data(), json.size(), &bytes), TIERKV_OK)
        << LastError();
    json.resize(bytes);
    return nlohmann::json::parse(json);
  }
  nlohmann::json HostTier() {
    const nlohmann::json stats = Stats();
    for (const auto& tier : stats["tiers"]) {
      if (tier["name"] == "host") return tier;
    }
    ADD_FAILURE() << "the stats name no host tier";
    return nlohmann::json::object();
  }
  uint64_t HostUsedBytes() { return HostTier().value("used_bytes", uint64_t{0}); }

  std::unique_ptr<DaemonProcess> daemon_;
  tierkv_client* client_ = nullptr;
  tierkv_namespace ns_{};
  std::vector<uint32_t> tokens_;
  std::vector<tierkv_key> keys_;
  std::vector<uint8_t> payload_;
};

TEST_P(CApiDaemonTest, PutLookupAndGetRoundTripByteExact) {
  Put(4);
  std::vector<uint8_t> tiers(kBlocks, 0xff);
  uint32_t matched = 0;
  ASSERT_EQ(tierkv_lookup(client_, &ns_, keys_.data(), kBlocks, tokens_.data(),
                          TIERKV_LOOKUP_PREFETCH, &matched, tiers.data()),
            TIERKV_OK)
      << LastError();
  EXPECT_EQ(matched, 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(tiers[i], TIERKV_TIER_HOST) << i;
  EXPECT_EQ(tiers[4], 0xff) << "only matched blocks are written";
  std::vector<uint8_t> out(kBlocks * kBlockBytes);
  uint32_t copied = 0;
  ASSERT_EQ(tierkv_get(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), out.data(),
                       out.size(), &copied),
            TIERKV_OK)
      << LastError();
  EXPECT_EQ(copied, 4u);
  EXPECT_EQ(0, std::memcmp(out.data(), payload_.data(), 4 * kBlockBytes));
}

TEST_P(CApiDaemonTest, AContinuationChainsFromItsParentKey) {
  Put(2);
  // Blocks 2 and 3, keyed from block 1's key, as an engine stores what it just prefilled.
  std::vector<tierkv_key> more(2);
  size_t n = 0;
  ASSERT_EQ(tierkv_chain_keys(&ns_, &keys_[1], Tokens(2), 2 * kBlockTokens, more.data(), 2, &n),
            TIERKV_OK);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(more[0].lo, keys_[2].lo);
  ASSERT_EQ(tierkv_put(client_, &ns_, keys_[1], more.data(), 2, Tokens(2), Bytes(2),
                       2 * kBlockBytes),
            TIERKV_OK)
      << LastError();
  EXPECT_EQ(Matched(), 4u);
}

TEST_P(CApiDaemonTest, GetIntoABufferTooSmallIsAnErrorNotAZeroCount) {
  Put(4);
  std::vector<uint8_t> out(kBlockBytes - 1);
  uint32_t copied = 77;
  EXPECT_EQ(tierkv_get(client_, &ns_, keys_.data(), 4, tokens_.data(), out.data(), out.size(),
                       &copied),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("cannot hold 4 blocks of 65536 bytes"), std::string::npos)
      << LastError();
  EXPECT_EQ(copied, 77u) << "a refused call writes no out-parameter";
  out.resize(3 * kBlockBytes);  // room for three of four
  EXPECT_EQ(tierkv_get(client_, &ns_, keys_.data(), 4, tokens_.data(), out.data(), out.size(),
                       &copied),
            TIERKV_INVALID_ARGUMENT);
  // Fewer keys read fewer blocks.
  ASSERT_EQ(tierkv_get(client_, &ns_, keys_.data(), 3, tokens_.data(), out.data(), out.size(),
                       &copied),
            TIERKV_OK);
  EXPECT_EQ(copied, 3u);
  EXPECT_EQ(Matched(), 4u);
}

TEST_P(CApiDaemonTest, LeasesLendTheBlocksInPlaceAndPinThem) {
  Put(kBlocks);
  tierkv_lease* lease = nullptr;
  ASSERT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), 4, 0, &lease),
            TIERKV_OK)
      << LastError();
  ASSERT_EQ(tierkv_lease_size(lease), 4u);
  void* pool = nullptr;
  size_t pool_bytes = 0;
  ASSERT_EQ(tierkv_shared_pool(client_, &pool, &pool_bytes), TIERKV_OK);
  EXPECT_EQ(tierkv_is_local(client_), GetParam() ? 0 : 1);
  EXPECT_EQ(pool_bytes, GetParam() ? 0 : kPoolBytes);
  for (size_t i = 0; i < 4; ++i) {
    int tier = 0;
    const void* bytes = nullptr;
    uint64_t gpu_offset = 1;
    ASSERT_EQ(tierkv_lease_block(lease, i, &tier, &bytes, &gpu_offset), TIERKV_OK);
    EXPECT_EQ(tier, TIERKV_TIER_HOST);
    EXPECT_EQ(gpu_offset, 0u);
    ASSERT_NE(bytes, nullptr);
    EXPECT_EQ(0, std::memcmp(bytes, Bytes(i), kBlockBytes)) << i;
    if (!GetParam()) {  // in place: inside the mapped pool
      EXPECT_GE(bytes, pool);
      EXPECT_LE(static_cast<const uint8_t*>(bytes) + kBlockBytes,
                static_cast<const uint8_t*>(pool) + pool_bytes);
    }
  }
  EXPECT_EQ(tierkv_lease_block(lease, 4, nullptr, nullptr, nullptr), TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("block 4 of a lease of 4"), std::string::npos);

  // An eviction of everything unpinned keeps the leased blocks.
  uint64_t evicted = 0;
  ASSERT_EQ(tierkv_evict(client_, nullptr, &evicted), TIERKV_OK) << LastError();
  EXPECT_EQ(evicted, GetParam() ? kBlocks : kBlocks - 4);
  EXPECT_EQ(Matched(), GetParam() ? 0u : 4u) << "a local lease pins; a TCP one holds the bytes";
  tierkv_release(lease);
  ASSERT_EQ(tierkv_evict(client_, &ns_, &evicted), TIERKV_OK);
  EXPECT_EQ(Matched(), 0u);
}

TEST_P(CApiDaemonTest, ReservationsAreWrittenInPlaceAndWhatAnotherClientReads) {
  Put(1);
  tierkv_reservation* res = nullptr;
  ASSERT_EQ(tierkv_reserve(client_, &ns_, ns_.id, keys_.data(), 3, tokens_.data(), 0, &res),
            TIERKV_OK)
      << LastError();
  ASSERT_EQ(tierkv_reservation_size(res), 3u);
  std::vector<void*> slots(3);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(tierkv_reservation_block(res, i, &slots[i]), TIERKV_OK);
  }
  // Block 0 is stored already (over TCP the client cannot know, and stages it).
  if (!GetParam()) {
    EXPECT_EQ(slots[0], nullptr);
  }
  for (size_t i = 0; i < 3; ++i) {
    if (slots[i]) std::memcpy(slots[i], Bytes(i), kBlockBytes);
  }
  void* bytes = nullptr;
  EXPECT_EQ(tierkv_reservation_block(res, 3, &bytes), TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("block 3 of a reservation of 3"), std::string::npos);
  EXPECT_EQ(Matched(), 1u) << "uncommitted blocks are invisible";
  ASSERT_EQ(tierkv_commit(res), TIERKV_OK) << LastError();

  tierkv_client* other = Connect();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(Matched(other), 3u);
  tierkv_lease* lease = nullptr;
  const tierkv_namespace other_ns = OpenOn(other);
  ASSERT_EQ(tierkv_acquire(other, &other_ns, keys_.data(), 3, tokens_.data(), 3, 0, &lease),
            TIERKV_OK);
  ASSERT_EQ(tierkv_lease_size(lease), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const void* read = nullptr;
    ASSERT_EQ(tierkv_lease_block(lease, i, nullptr, &read, nullptr), TIERKV_OK);
    EXPECT_EQ(0, std::memcmp(read, Bytes(i), kBlockBytes)) << i;
  }
  tierkv_release(lease);
  tierkv_close(other);
  if (GetParam()) return;
  // The slot written through the reservation is the very memory a lease lends.
  ASSERT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), 3, tokens_.data(), 3, 0, &lease),
            TIERKV_OK);
  const void* leased = nullptr;
  ASSERT_EQ(tierkv_lease_block(lease, 2, nullptr, &leased, nullptr), TIERKV_OK);
  EXPECT_EQ(leased, slots[2]);
  tierkv_release(lease);
}

TEST_P(CApiDaemonTest, AnAbortedReservationStoresNothingAndFreesItsSlots) {
  const uint64_t used_before = HostUsedBytes();
  tierkv_reservation* res = nullptr;
  ASSERT_EQ(tierkv_reserve(client_, &ns_, ns_.id, keys_.data(), kBlocks, tokens_.data(), 0, &res),
            TIERKV_OK)
      << LastError();
  if (!GetParam()) {
    EXPECT_GT(HostUsedBytes(), used_before);
  }
  EXPECT_EQ(tierkv_abort(res), TIERKV_OK) << LastError();
  EXPECT_EQ(Matched(), 0u);
  EXPECT_EQ(HostUsedBytes(), used_before);
}

TEST_P(CApiDaemonTest, AReservationThatCanNeverFitIsRefusedWholeAndReadsGoOn) {
  Put(2);
  // 17 blocks of 4 MiB: more than the whole 64 MiB pool.
  tierkv_namespace_spec spec = Spec("c-api-big");
  spec.block_bytes = 4ull << 20;
  tierkv_namespace big;
  ASSERT_EQ(tierkv_open_namespace(client_, &spec, &big), TIERKV_OK) << LastError();
  constexpr size_t kTooMany = 17;
  std::vector<uint32_t> tokens(kTooMany * kBlockTokens);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = i + 1;
  std::vector<tierkv_key> keys(kTooMany);
  size_t n = 0;
  ASSERT_EQ(tierkv_chain_keys(&big, nullptr, tokens.data(), tokens.size(), keys.data(), kTooMany,
                              &n),
            TIERKV_OK);
  tierkv_reservation* res = nullptr;
  tierkv_status s = tierkv_reserve(client_, &big, big.id, keys.data(), kTooMany, tokens.data(), 0,
                                   &res);
  if (GetParam()) {  // over TCP the slots are staged here and the commit carries them
    ASSERT_EQ(s, TIERKV_OK) << LastError();
    s = tierkv_commit(res);
  }
  EXPECT_EQ(s, TIERKV_RESOURCE_EXHAUSTED) << LastError();
  EXPECT_EQ(Matched(), 2u);
}

TEST_P(CApiDaemonTest, CloseEndsOpenLeasesAndReservations) {
  Put(4);
  tierkv_client* engine = Connect();
  ASSERT_NE(engine, nullptr);
  const tierkv_namespace engine_ns = OpenOn(engine);
  tierkv_lease* lease = nullptr;
  ASSERT_EQ(tierkv_acquire(engine, &engine_ns, keys_.data(), 4, tokens_.data(), 4, 0, &lease),
            TIERKV_OK);
  tierkv_reservation* res = nullptr;
  ASSERT_EQ(tierkv_reserve(engine, &engine_ns, keys_[3], keys_.data() + 4, 2, Tokens(4), 0, &res),
            TIERKV_OK);
  tierkv_close(engine);
  EXPECT_EQ(tierkv_lease_size(lease), 0u);
  EXPECT_EQ(tierkv_reservation_size(res), 0u);
  EXPECT_EQ(tierkv_commit(res), TIERKV_UNAVAILABLE);
  EXPECT_NE(LastError().find("the client was closed"), std::string::npos);
  tierkv_release(lease);
  // Nothing is pinned any more, and the reserved slots are free.
  uint64_t evicted = 0;
  ASSERT_EQ(tierkv_evict(client_, nullptr, &evicted), TIERKV_OK);
  EXPECT_EQ(evicted, 4u);
  EXPECT_EQ(HostUsedBytes(), 0u);
}

TEST_P(CApiDaemonTest, StatsHealthEvictAndFlush) {
  Put(3);
  size_t bytes = 0;
  char small[8];
  EXPECT_EQ(tierkv_stats_json(client_, small, sizeof small, &bytes), TIERKV_INVALID_ARGUMENT);
  EXPECT_GT(bytes, sizeof small);
  EXPECT_NE(LastError().find("needs " + std::to_string(bytes + 1) + " bytes"), std::string::npos)
      << LastError();
  EXPECT_EQ(HostTier()["blocks"], 3);

  tierkv_health_info health;
  ASSERT_EQ(tierkv_health(client_, &health), TIERKV_OK) << LastError();
  EXPECT_EQ(health.ok, 1);
  EXPECT_GT(std::strlen(health.version), 0u);
  EXPECT_NE(std::string(health.detail).find("host tier"), std::string::npos) << health.detail;

  uint64_t written = 0;
  ASSERT_EQ(tierkv_flush(client_, &written), TIERKV_OK) << LastError();
  EXPECT_EQ(written, 3u);
  uint64_t evicted = 0;
  ASSERT_EQ(tierkv_evict(client_, &ns_, &evicted), TIERKV_OK) << LastError();
  EXPECT_EQ(evicted, 3u);
  EXPECT_EQ(Matched(), 0u);
}

TEST_P(CApiDaemonTest, UnknownKvDtypeIsRefusedAndOpensNothing) {
  const size_t namespaces = Stats()["namespaces"].size();
  tierkv_namespace_spec spec = Spec();
  spec.kv_dtype = "fp99";
  tierkv_namespace ns;
  EXPECT_EQ(tierkv_open_namespace(client_, &spec, &ns), TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("unknown kv_dtype 'fp99' (known: f32, f16, bf16, q8_0"),
            std::string::npos)
      << LastError();
  EXPECT_EQ(Stats()["namespaces"].size(), namespaces);
  // Every field of the spec makes its own namespace.
  for (const char* dtype : {"f32", "bf16", "q8_0"}) {
    spec = Spec();
    spec.kv_dtype = dtype;
    spec.adapter_id = "lora-7";
    spec.kv_layout = "token-major";
    ASSERT_EQ(tierkv_open_namespace(client_, &spec, &ns), TIERKV_OK) << dtype << LastError();
    EXPECT_FALSE(ns.id.lo == ns_.id.lo && ns.id.hi == ns_.id.hi);
  }
}

TEST_P(CApiDaemonTest, EveryImpossibleSpecIsRefusedWithItsReasonAndOpensNothing) {
  const size_t namespaces = Stats()["namespaces"].size();
  constexpr uint64_t kSlabBytes = 8ull << 20;  // DaemonProcess's --slab-bytes
  const struct {
    const char* reason;
    void (*change)(tierkv_namespace_spec*);
  } cases[] = {
      {"model_fingerprint is NULL",
       [](tierkv_namespace_spec* s) { s->model_fingerprint = nullptr; }},
      {"needs a model fingerprint", [](tierkv_namespace_spec* s) { s->model_fingerprint = ""; }},
      {"needs a tenant", [](tierkv_namespace_spec* s) { s->tenant = ""; }},
      {"block_tokens must be 1..4096", [](tierkv_namespace_spec* s) { s->block_tokens = 0; }},
      {"block_tokens must be 1..4096", [](tierkv_namespace_spec* s) { s->block_tokens = 4097; }},
      {"block_bytes must be 1..8388608 on this daemon, got 0",
       [](tierkv_namespace_spec* s) { s->block_bytes = 0; }},
      {"block_bytes must be 1..8388608 on this daemon, got 8388609",
       [](tierkv_namespace_spec* s) { s->block_bytes = kSlabBytes + 1; }},
  };
  for (const auto& c : cases) {
    tierkv_namespace_spec spec = Spec();
    c.change(&spec);
    tierkv_namespace ns{};
    EXPECT_EQ(tierkv_open_namespace(client_, &spec, &ns), TIERKV_INVALID_ARGUMENT) << c.reason;
    EXPECT_NE(LastError().find(c.reason), std::string::npos) << LastError();
    EXPECT_EQ(ns.handle, 0u) << "a refused open fills nothing";
  }
  EXPECT_EQ(Stats()["namespaces"].size(), namespaces);
  tierkv_namespace_spec spec = Spec();
  spec.block_bytes = kSlabBytes;  // the largest block this daemon holds
  tierkv_namespace ns;
  EXPECT_EQ(tierkv_open_namespace(client_, &spec, &ns), TIERKV_OK) << LastError();
}

// Each pointer a call needs, NULL: refused with the call's and the pointer's
// names, nothing sent, nothing stored changed.
TEST_P(CApiDaemonTest, EveryMissingPointerIsRefusedByName) {
  Put(2);
  tierkv_reservation* res = nullptr;
  ASSERT_EQ(tierkv_reserve(client_, &ns_, keys_[1], keys_.data() + 2, 1, Tokens(2), 0, &res),
            TIERKV_OK);
  tierkv_connect_options options;
  tierkv_connect_options_init(&options);
  const std::string address = Address();
  options.address = address.c_str();
  tierkv_connect_options no_address = options;
  no_address.address = nullptr;
  const tierkv_namespace_spec spec = Spec();
  tierkv_namespace ns;
  tierkv_client* c = client_;
  const tierkv_key* keys = keys_.data();
  const uint32_t* tokens = tokens_.data();
  std::vector<uint8_t> buf(kBlockBytes);
  tierkv_lease* lease = nullptr;
  uint32_t count = 0;
  size_t n = 0;
  void* base = nullptr;
  const struct {
    const char* message;
    std::function<tierkv_status()> call;
  } cases[] = {
      {"tierkv_connect_with: options is NULL", [&] { return tierkv_connect_with(nullptr, &c); }},
      {"tierkv_connect_with: out is NULL", [&] { return tierkv_connect_with(&options, nullptr); }},
      {"tierkv_connect_with: options->address is NULL",
       [&] { return tierkv_connect_with(&no_address, &c); }},
      {"tierkv_connect: address is NULL", [&] { return tierkv_connect(nullptr, &c); }},
      {"tierkv_shared_pool: client is NULL",
       [&] { return tierkv_shared_pool(nullptr, &base, &n); }},
      {"tierkv_shared_pool: bytes is NULL", [&] { return tierkv_shared_pool(c, &base, nullptr); }},
      {"tierkv_open_namespace: client is NULL",
       [&] { return tierkv_open_namespace(nullptr, &spec, &ns); }},
      {"tierkv_open_namespace: spec is NULL",
       [&] { return tierkv_open_namespace(c, nullptr, &ns); }},
      {"tierkv_open_namespace: out is NULL",
       [&] { return tierkv_open_namespace(c, &spec, nullptr); }},
      {"tierkv_chain_keys: ns is NULL",
       [&] { return tierkv_chain_keys(nullptr, nullptr, tokens, 16, keys_.data(), 1, &n); }},
      {"tierkv_chain_keys: n_keys is NULL",
       [&] { return tierkv_chain_keys(&ns_, nullptr, tokens, 16, keys_.data(), 1, nullptr); }},
      {"tierkv_chain_keys: tokens is NULL",
       [&] { return tierkv_chain_keys(&ns_, nullptr, nullptr, 16, keys_.data(), 1, &n); }},
      {"tierkv_chain_keys: keys is NULL",
       [&] { return tierkv_chain_keys(&ns_, nullptr, tokens, 16, nullptr, 1, &n); }},
      {"tierkv_lookup: client is NULL",
       [&] { return tierkv_lookup(nullptr, &ns_, keys, 2, tokens, 0, &count, nullptr); }},
      {"tierkv_lookup: ns is NULL",
       [&] { return tierkv_lookup(c, nullptr, keys, 2, tokens, 0, &count, nullptr); }},
      {"tierkv_lookup: matched_blocks is NULL",
       [&] { return tierkv_lookup(c, &ns_, keys, 2, tokens, 0, nullptr, nullptr); }},
      {"tierkv_lookup: keys is NULL",
       [&] { return tierkv_lookup(c, &ns_, nullptr, 2, tokens, 0, &count, nullptr); }},
      {"tierkv_lookup: tokens is NULL",
       [&] { return tierkv_lookup(c, &ns_, keys, 2, nullptr, 0, &count, nullptr); }},
      {"tierkv_get: client is NULL",
       [&] { return tierkv_get(nullptr, &ns_, keys, 1, tokens, buf.data(), buf.size(), &count); }},
      {"tierkv_get: ns is NULL",
       [&] { return tierkv_get(c, nullptr, keys, 1, tokens, buf.data(), buf.size(), &count); }},
      {"tierkv_get: blocks_copied is NULL",
       [&] { return tierkv_get(c, &ns_, keys, 1, tokens, buf.data(), buf.size(), nullptr); }},
      {"tierkv_get: keys is NULL",
       [&] { return tierkv_get(c, &ns_, nullptr, 1, tokens, buf.data(), buf.size(), &count); }},
      {"tierkv_get: out is NULL",
       [&] { return tierkv_get(c, &ns_, keys, 1, tokens, nullptr, buf.size(), &count); }},
      {"tierkv_acquire: client is NULL",
       [&] { return tierkv_acquire(nullptr, &ns_, keys, 2, tokens, 2, 0, &lease); }},
      {"tierkv_acquire: ns is NULL",
       [&] { return tierkv_acquire(c, nullptr, keys, 2, tokens, 2, 0, &lease); }},
      {"tierkv_acquire: out is NULL",
       [&] { return tierkv_acquire(c, &ns_, keys, 2, tokens, 2, 0, nullptr); }},
      {"tierkv_acquire: keys is NULL",
       [&] { return tierkv_acquire(c, &ns_, nullptr, 2, tokens, 2, 0, &lease); }},
      {"tierkv_lease_block: lease is NULL",
       [&] { return tierkv_lease_block(nullptr, 0, nullptr, nullptr, nullptr); }},
      {"tierkv_gpu_pool_info: client is NULL",
       [&] { return tierkv_gpu_pool_info(nullptr, nullptr); }},
      {"tierkv_gpu_pool_info: out is NULL", [&] { return tierkv_gpu_pool_info(c, nullptr); }},
      {"tierkv_put: client is NULL",
       [&] { return tierkv_put(nullptr, &ns_, ns_.id, keys, 1, tokens, buf.data(), buf.size()); }},
      {"tierkv_put: ns is NULL",
       [&] { return tierkv_put(c, nullptr, ns_.id, keys, 1, tokens, buf.data(), buf.size()); }},
      {"tierkv_put: keys is NULL",
       [&] { return tierkv_put(c, &ns_, ns_.id, nullptr, 1, tokens, buf.data(), buf.size()); }},
      {"tierkv_put: tokens is NULL",
       [&] { return tierkv_put(c, &ns_, ns_.id, keys, 1, nullptr, buf.data(), buf.size()); }},
      {"tierkv_put: payload is NULL",
       [&] { return tierkv_put(c, &ns_, ns_.id, keys, 1, tokens, nullptr, buf.size()); }},
      {"tierkv_reserve: client is NULL",
       [&] { return tierkv_reserve(nullptr, &ns_, ns_.id, keys, 1, tokens, 0, &res); }},
      {"tierkv_reserve: ns is NULL",
       [&] { return tierkv_reserve(c, nullptr, ns_.id, keys, 1, tokens, 0, &res); }},
      {"tierkv_reserve: out is NULL",
       [&] { return tierkv_reserve(c, &ns_, ns_.id, keys, 1, tokens, 0, nullptr); }},
      {"tierkv_reserve: tokens is NULL",
       [&] { return tierkv_reserve(c, &ns_, ns_.id, keys, 1, nullptr, 0, &res); }},
      {"tierkv_reservation_block: reservation is NULL",
       [&] { return tierkv_reservation_block(nullptr, 0, &base); }},
      {"tierkv_reservation_block: bytes is NULL",
       [&] { return tierkv_reservation_block(res, 0, nullptr); }},
      {"tierkv_commit: reservation is NULL", [&] { return tierkv_commit(nullptr); }},
      {"tierkv_stats_json: client is NULL",
       [&] { return tierkv_stats_json(nullptr, nullptr, 0, &n); }},
      {"tierkv_stats_json: buf is NULL", [&] { return tierkv_stats_json(c, nullptr, 16, &n); }},
      {"tierkv_health: client is NULL", [&] { return tierkv_health(nullptr, nullptr); }},
      {"tierkv_health: out is NULL", [&] { return tierkv_health(c, nullptr); }},
      {"tierkv_evict: client is NULL", [&] { return tierkv_evict(nullptr, nullptr, nullptr); }},
      {"tierkv_flush: client is NULL", [&] { return tierkv_flush(nullptr, nullptr); }},
  };
  for (const auto& test_case : cases) {
    EXPECT_EQ(test_case.call(), TIERKV_INVALID_ARGUMENT) << test_case.message;
    EXPECT_NE(LastError().find(test_case.message), std::string::npos)
        << "wanted '" << test_case.message << "', got '" << LastError() << "'";
  }
  EXPECT_EQ(lease, nullptr);
  EXPECT_EQ(c, client_);
  ASSERT_EQ(tierkv_abort(res), TIERKV_OK);
  EXPECT_EQ(Matched(), 2u);
}

// A daemon that dies under a connected client: every call that needs it says
// Unavailable, and what the client holds is still freed without a crash.
TEST_P(CApiDaemonTest, ADaemonThatDiedMakesEveryCallUnavailable) {
  Put(2);
  tierkv_lease* lease = nullptr;
  ASSERT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), 2, tokens_.data(), 2, 0, &lease),
            TIERKV_OK);
  tierkv_reservation* res = nullptr;
  ASSERT_EQ(tierkv_reserve(client_, &ns_, keys_[1], keys_.data() + 2, 1, Tokens(2), 0, &res),
            TIERKV_OK);
  daemon_->Kill();
  const tierkv_key* keys = keys_.data();
  const uint32_t* tokens = tokens_.data();
  std::vector<uint8_t> out(2 * kBlockBytes);
  uint32_t count = 0;
  const tierkv_namespace_spec spec = Spec("c-api-after-death");
  tierkv_namespace ns;
  tierkv_lease* no_lease = nullptr;
  tierkv_reservation* no_res = nullptr;
  tierkv_health_info health;
  size_t bytes = 0;
  const struct {
    const char* name;
    std::function<tierkv_status()> call;
  } cases[] = {
      {"open", [&] { return tierkv_open_namespace(client_, &spec, &ns); }},
      {"lookup", [&] { return tierkv_lookup(client_, &ns_, keys, 2, tokens, 0, &count, nullptr); }},
      {"get",
       [&] { return tierkv_get(client_, &ns_, keys, 2, tokens, out.data(), out.size(), &count); }},
      {"acquire", [&] { return tierkv_acquire(client_, &ns_, keys, 2, tokens, 2, 0, &no_lease); }},
      {"put",
       [&] { return tierkv_put(client_, &ns_, ns_.id, keys, 1, tokens, out.data(), kBlockBytes); }},
      {"commit", [&] { return tierkv_commit(res); }},
      {"stats", [&] { return tierkv_stats_json(client_, nullptr, 0, &bytes); }},
      {"health", [&] { return tierkv_health(client_, &health); }},
      {"evict", [&] { return tierkv_evict(client_, nullptr, nullptr); }},
      {"flush", [&] { return tierkv_flush(client_, nullptr); }},
  };
  for (const auto& test_case : cases) {
    EXPECT_EQ(test_case.call(), TIERKV_UNAVAILABLE) << test_case.name << ": " << LastError();
    EXPECT_FALSE(LastError().empty()) << test_case.name;
  }
  EXPECT_EQ(no_lease, nullptr);
  // Over TCP a reservation is staged here, and only its commit needs the daemon.
  const tierkv_status reserved = tierkv_reserve(client_, &ns_, ns_.id, keys, 1, tokens, 0, &no_res);
  if (GetParam()) {
    ASSERT_EQ(reserved, TIERKV_OK) << LastError();
    EXPECT_EQ(tierkv_commit(no_res), TIERKV_UNAVAILABLE);
  } else {
    EXPECT_EQ(reserved, TIERKV_UNAVAILABLE) << LastError();
    EXPECT_EQ(no_res, nullptr);
  }
  // A local lease's blocks stay mapped (and readable) until released.
  const void* block = nullptr;
  ASSERT_EQ(tierkv_lease_block(lease, 1, nullptr, &block, nullptr), TIERKV_OK);
  EXPECT_EQ(0, std::memcmp(block, Bytes(1), kBlockBytes));
  tierkv_release(lease);
}

TEST_P(CApiDaemonTest, BadArgumentsGetClearErrorsAndChangeNothing) {
  Put(2);
  tierkv_lease* lease = nullptr;
  EXPECT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), kBlocks, nullptr, kBlocks, 0, &lease),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("tierkv_acquire: tokens is NULL"), std::string::npos);
  EXPECT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), kBlocks, 8,
                           &lease),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("unknown acquire flags"), std::string::npos);
  uint32_t matched = 0;
  EXPECT_EQ(tierkv_lookup(client_, &ns_, nullptr, 3, tokens_.data(), 0, &matched, nullptr),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_EQ(tierkv_lookup(client_, &ns_, keys_.data(), 3, tokens_.data(), 2, &matched, nullptr),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_EQ(tierkv_lookup(client_, &ns_, keys_.data(), TIERKV_MAX_BLOCKS_PER_CALL + 1,
                          tokens_.data(), 0, &matched, nullptr),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("at most 4096 per call"), std::string::npos);
  EXPECT_EQ(tierkv_put(client_, &ns_, ns_.id, keys_.data(), 1, nullptr, payload_.data(),
                       kBlockBytes),
            TIERKV_INVALID_ARGUMENT);
  // A payload of the wrong size for a block that is otherwise right (block
  // 2, chained from block 1) is refused by the client library.
  EXPECT_EQ(tierkv_put(client_, &ns_, keys_[1], keys_.data() + 2, 1, Tokens(2), payload_.data(),
                       kBlockBytes - 1),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("want " + std::to_string(kBlockBytes)), std::string::npos)
      << LastError();
  tierkv_reservation* res = nullptr;
  EXPECT_EQ(tierkv_reserve(client_, &ns_, ns_.id, keys_.data(), 1, tokens_.data(), 4, &res),
            TIERKV_INVALID_ARGUMENT);
  EXPECT_NE(LastError().find("unknown reserve flags"), std::string::npos);
  // A key that is not the hash of its parent and tokens is refused by the daemon.
  tierkv_key forged = keys_[2];
  forged.lo ^= 1;
  EXPECT_EQ(tierkv_put(client_, &ns_, keys_[1], &forged, 1, Tokens(2), Bytes(2), kBlockBytes),
            TIERKV_INVALID_ARGUMENT);
  // A namespace handle the daemon never gave out.
  tierkv_namespace unknown = ns_;
  unknown.handle = 999;
  EXPECT_EQ(tierkv_lookup(client_, &unknown, keys_.data(), 2, tokens_.data(), 0, &matched,
                          nullptr),
            TIERKV_NOT_FOUND);
  EXPECT_EQ(tierkv_stats_json(client_, nullptr, 16, nullptr), TIERKV_INVALID_ARGUMENT);
  EXPECT_EQ(tierkv_health(client_, nullptr), TIERKV_INVALID_ARGUMENT);
  EXPECT_EQ(tierkv_shared_pool(client_, nullptr, nullptr), TIERKV_INVALID_ARGUMENT);
  EXPECT_EQ(Matched(), 2u);
}

TEST_P(CApiDaemonTest, OneClientSharedByThreads) {
  Put(kBlocks);
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> out(kBlocks * kBlockBytes);
      for (int r = 0; r < kRounds; ++r) {
        uint32_t copied = 0;
        if (tierkv_get(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), out.data(),
                       out.size(), &copied) != TIERKV_OK ||
            copied != kBlocks || std::memcmp(out.data(), payload_.data(), out.size()) != 0) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST_P(CApiDaemonTest, GpuPoolSaysWhyItIsNotThere) {
  tierkv_gpu_pool pool;
  const tierkv_status s = tierkv_gpu_pool_info(client_, &pool);
  if (GetParam()) {
    EXPECT_EQ(s, TIERKV_UNSUPPORTED) << LastError();
    return;
  }
  if (s == TIERKV_OK) GTEST_SKIP() << "this daemon has a GPU tier";
  EXPECT_EQ(s, TIERKV_UNAVAILABLE);
  EXPECT_NE(LastError().find("gpu tier is off"), std::string::npos) << LastError();
  // Asking for GPU locations without a GPU tier still lends host blocks.
  Put(2);
  tierkv_lease* lease = nullptr;
  ASSERT_EQ(tierkv_acquire(client_, &ns_, keys_.data(), kBlocks, tokens_.data(), kBlocks,
                           TIERKV_ACQUIRE_GPU, &lease),
            TIERKV_OK);
  ASSERT_EQ(tierkv_lease_size(lease), 2u);
  int tier = 0;
  ASSERT_EQ(tierkv_lease_block(lease, 1, &tier, nullptr, nullptr), TIERKV_OK);
  EXPECT_EQ(tier, TIERKV_TIER_HOST);
  tierkv_release(lease);
}

INSTANTIATE_TEST_SUITE_P(UnixAndTcp, CApiDaemonTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Tcp" : "Unix"; });

constexpr char kAcmeToken[] = "acme-t0ken";
constexpr char kAdminToken[] = "adm1n";

// A daemon whose tenant "acme" needs a token, and whose evict and flush need the admin token.
class CApiTenantTest : public ::testing::TestWithParam<bool> {  // true: over TCP
 protected:
  void SetUp() override {
    char path[] = "/tmp/tierkv-c-api-tenants-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    config_ = path;
    std::ofstream(config_) << "[tenants]\nacme = \"" << kAcmeToken << "\"\n";
    daemon_ = std::make_unique<DaemonProcess>(
        std::vector<std::string>{"--config", config_, "--admin-token", kAdminToken});
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  }
  void TearDown() override { unlink(config_.c_str()); }

  tierkv_client* ConnectAs(const char* tenant, const char* token, const char* admin = nullptr) {
    const std::string address = GetParam() ? daemon_->tcp_address() : daemon_->socket_path();
    tierkv_connect_options options;
    tierkv_connect_options_init(&options);
    options.address = address.c_str();
    options.tenant = tenant;
    options.tenant_token = token;
    options.admin_token = admin;
    options.timeout_ms = 5000;
    tierkv_client* c = nullptr;
    EXPECT_EQ(tierkv_connect_with(&options, &c), TIERKV_OK) << LastError();
    return c;
  }

  std::string config_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_P(CApiTenantTest, ATenantWithItsTokenOpensItsNamespacesAndNoOneElseCan) {
  tierkv_client* acme = ConnectAs("acme", kAcmeToken);
  ASSERT_NE(acme, nullptr);
  tierkv_namespace_spec spec = Spec();  // tenant NULL: the client's tenant
  tierkv_namespace ns;
  ASSERT_EQ(tierkv_open_namespace(acme, &spec, &ns), TIERKV_OK) << LastError();
  std::vector<uint32_t> tokens(kBlockTokens, 5);
  tierkv_key key;
  size_t n = 0;
  ASSERT_EQ(tierkv_chain_keys(&ns, nullptr, tokens.data(), tokens.size(), &key, 1, &n), TIERKV_OK);
  std::vector<uint8_t> payload(kBlockBytes, 0x5a);
  ASSERT_EQ(tierkv_put(acme, &ns, ns.id, &key, 1, tokens.data(), payload.data(), payload.size()),
            TIERKV_OK)
      << LastError();

  tierkv_client* intruder = ConnectAs("acme", "wrong-token");
  ASSERT_NE(intruder, nullptr);
  tierkv_namespace stolen;
  EXPECT_EQ(tierkv_open_namespace(intruder, &spec, &stolen), TIERKV_PERMISSION_DENIED);
  EXPECT_NE(LastError().find("do not allow tenant 'acme'"), std::string::npos) << LastError();
  // No token at all, or the default tenant's client naming acme in the spec.
  tierkv_client* tokenless = ConnectAs("acme", nullptr);
  ASSERT_NE(tokenless, nullptr);
  EXPECT_EQ(tierkv_open_namespace(tokenless, &spec, &stolen), TIERKV_PERMISSION_DENIED);
  tierkv_close(tokenless);
  tierkv_client* neighbour = ConnectAs(nullptr, nullptr);
  ASSERT_NE(neighbour, nullptr);
  tierkv_namespace_spec named = spec;
  named.tenant = "acme";
  EXPECT_EQ(tierkv_open_namespace(neighbour, &named, &stolen), TIERKV_PERMISSION_DENIED);
  EXPECT_NE(LastError().find("do not allow tenant 'acme'"), std::string::npos) << LastError();
  tierkv_close(neighbour);
  // Admin operations need the admin token over TCP (on the Unix socket the
  // daemon's own uid, this test's, is admin: docs/security.md).
  if (GetParam()) {
    EXPECT_EQ(tierkv_evict(acme, nullptr, nullptr), TIERKV_PERMISSION_DENIED);
    EXPECT_EQ(tierkv_flush(acme, nullptr), TIERKV_PERMISSION_DENIED);
  }
  uint32_t matched = 0;
  ASSERT_EQ(tierkv_lookup(acme, &ns, &key, 1, tokens.data(), 0, &matched, nullptr), TIERKV_OK);
  EXPECT_EQ(matched, 1u);

  tierkv_client* admin = ConnectAs(nullptr, nullptr, kAdminToken);
  ASSERT_NE(admin, nullptr);
  uint64_t evicted = 0;
  EXPECT_EQ(tierkv_evict(admin, nullptr, &evicted), TIERKV_OK) << LastError();
  EXPECT_EQ(evicted, 1u);
  tierkv_close(admin);
  tierkv_close(intruder);
  tierkv_close(acme);
}

INSTANTIATE_TEST_SUITE_P(UnixAndTcp, CApiTenantTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Tcp" : "Unix"; });

// A socket that accepts and never answers: a daemon that hangs.
TEST(CApiTimeoutTest, ADaemonThatNeverAnswersTimesOutAsUnavailable) {
  char dir[] = "/tmp/tierkv-c-api-timeout-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/silent.sock";
  const int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);

  tierkv_connect_options options;
  tierkv_connect_options_init(&options);
  options.address = path.c_str();
  options.timeout_ms = 200;
  tierkv_client* client = nullptr;
  EXPECT_EQ(tierkv_connect_with(&options, &client), TIERKV_UNAVAILABLE);
  EXPECT_NE(LastError().find("timed out"), std::string::npos) << LastError();
  EXPECT_EQ(client, nullptr);
  close(listener);
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace tierkv::testing
