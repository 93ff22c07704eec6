#include "tests/security/security_fixture.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace tierkv::testing {
namespace {

// An attack that filled the connection limit has closed its connections by
// the end of the test, but the daemon may not have seen every close yet.
constexpr auto kConnectionsFreedDeadline = std::chrono::seconds(10);
constexpr auto kConnectRetryPause = std::chrono::milliseconds(20);

}  // namespace

void SecurityTest::StartDaemon(std::vector<std::string> extra_flags, AdminToken admin) {
  char path[] = "/tmp/tierkv-security-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  config_path_ = path;
  std::ofstream(config_path_) << "[tenants]\nacme = \"" << kAcmeToken << "\"\nglobex = \""
                              << kGlobexToken << "\"\n";
  std::vector<std::string> flags = {"--config", config_path_};
  if (admin == AdminToken::kConfigured) {
    flags.push_back("--admin-token");
    flags.push_back(kAdminToken);
  }
  for (std::string& f : extra_flags) flags.push_back(std::move(f));
  daemon_ = std::make_unique<DaemonProcess>(flags);
  ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  acme_.tenant = "acme";
  acme_.token = kAcmeToken;
  globex_.tenant = "globex";
  globex_.token = kGlobexToken;
  ASSERT_NO_FATAL_FAILURE(StoreVictim(&acme_, 1));
  ASSERT_NO_FATAL_FAILURE(StoreVictim(&globex_, 2));
}

void SecurityTest::TearDown() {
  if (daemon_ && daemon_->running()) ExpectStoredBlocksIntact();
  if (!config_path_.empty()) unlink(config_path_.c_str());
}

void SecurityTest::CloseVictimConnections() {
  acme_.client.reset();
  globex_.client.reset();
}

void SecurityTest::StoreVictim(Victim* v, uint64_t seed) {
  v->client = ConnectAs(v->token);
  ASSERT_TRUE(v->client);
  auto ns = v->client->OpenNamespace(TestSpec(kBlockBytes, kBlockTokens, v->tenant));
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  v->ns = *ns;
  v->prompt = MakePrompt(v->ns, kStoredBlocks);
  v->payload = Payload(v->ns, kStoredBlocks, seed);
  ASSERT_TRUE(v->client->Put(v->ns, v->ns.id, v->prompt.keys, v->prompt.tokens, v->payload).ok());
  v->stored = true;
}

void SecurityTest::ExpectStoredBlocksIntact() {
  for (Victim* v : {&acme_, &globex_}) {
    if (!v->stored) continue;
    // A fresh connection: the owner's own may have been the attack's target.
    ConnectOptions o;
    o.address = daemon_->socket_path();
    o.tenant_token = v->token;
    auto connected = Client::Connect(o);
    const auto deadline = std::chrono::steady_clock::now() + kConnectionsFreedDeadline;
    while (!connected.ok() && connected.status().code() == StatusCode::kResourceExhausted &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(kConnectRetryPause);
      connected = Client::Connect(o);
    }
    ASSERT_TRUE(connected.ok()) << connected.status().ToString();
    std::unique_ptr<Client> owner = std::move(*connected);
    auto ns = owner->OpenNamespace(TestSpec(kBlockBytes, kBlockTokens, v->tenant));
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    std::vector<std::byte> out(v->payload.size());
    auto got = owner->Get(*ns, v->prompt.keys, v->prompt.tokens, out);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, kStoredBlocks) << v->tenant << "'s blocks are no longer all found";
    EXPECT_TRUE(out == v->payload) << v->tenant << "'s blocks changed";
  }
}

std::unique_ptr<Client> SecurityTest::ConnectAs(const std::string& tenant_token,
                                                const std::string& admin_token, bool tcp) const {
  ConnectOptions o;
  o.address = tcp ? daemon_->tcp_address() : daemon_->socket_path();
  o.tenant_token = tenant_token;
  o.admin_token = admin_token;
  auto c = Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

std::unique_ptr<RawClient> SecurityTest::RawAs(const std::string& tenant_token,
                                               const std::string& admin_token, bool tcp) const {
  auto raw = tcp ? RawTcp() : RawUnix();
  EXPECT_TRUE(raw->connected());
  if (!raw->connected()) return nullptr;
  const Status hello = raw->Hello(tenant_token, admin_token);
  EXPECT_TRUE(hello.ok()) << hello.ToString();
  return raw;
}

wire::OpenNamespaceRequest SecurityTest::SpecFor(const std::string& tenant) {
  const NamespaceSpec spec = TestSpec(kBlockBytes, kBlockTokens, tenant);
  wire::OpenNamespaceRequest req;
  req.model_fingerprint = spec.model_fingerprint;
  req.tenant = spec.tenant;
  req.adapter_id = spec.adapter_id;
  req.kv_dtype = spec.kv_dtype;
  req.kv_layout = spec.kv_layout;
  req.block_tokens = spec.block_tokens;
  req.block_bytes = spec.block_bytes;
  return req;
}

wire::BlockChain SecurityTest::ChainOf(const Prompt& prompt, const Key128& parent) {
  wire::BlockChain chain;
  chain.parent = parent;
  chain.keys = prompt.keys;
  chain.tokens = prompt.tokens;
  return chain;
}

}  // namespace tierkv::testing
