// Tenant isolation and admin rights against a real tierkvd configured with
// [tenants] tokens and an admin token: namespaces of different tenants never
// share a block, even for identical tokens; a client opens only the tenants
// its credentials allow; evict and flush need the admin token; namespace ids
// are salted with the daemon's own secret.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"

namespace tierkv::testing {
namespace {

constexpr uint64_t kBlockBytes = 64 * 1024;
constexpr char kAcmeToken[] = "acme-t0ken";
constexpr char kGlobexToken[] = "globex-t0ken";
constexpr char kAdminToken[] = "adm1n";

class TenantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[] = "/tmp/tierkv-tenants-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    config_ = path;
    std::ofstream(config_) << "[tenants]\nacme = \"" << kAcmeToken << "\"\nglobex = \""
                           << kGlobexToken << "\"\n";
    daemon_ = std::make_unique<DaemonProcess>(
        std::vector<std::string>{"--config", config_, "--admin-token", kAdminToken});
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  }
  void TearDown() override { unlink(config_.c_str()); }

  std::unique_ptr<Client> ConnectAs(const std::string& tenant_token,
                                    const std::string& admin_token = "", bool tcp = false) {
    ConnectOptions o;
    o.address = tcp ? daemon_->tcp_address() : daemon_->socket_path();
    o.tenant_token = tenant_token;
    o.admin_token = admin_token;
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::string config_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(TenantsTest, IdenticalTokensInTwoTenantsShareNoBlock) {
  auto acme = ConnectAs(kAcmeToken);
  auto globex = ConnectAs(kGlobexToken);
  const Namespace a = *acme->OpenNamespace(TestSpec(kBlockBytes, 16, "acme"));
  const Namespace g = *globex->OpenNamespace(TestSpec(kBlockBytes, 16, "globex"));
  EXPECT_FALSE(a.id == g.id);
  const Prompt pa = MakePrompt(a, 4);  // the same tokens in both tenants
  const Prompt pg = MakePrompt(g, 4);
  ASSERT_EQ(pa.tokens, pg.tokens);
  for (size_t i = 0; i < pa.keys.size(); ++i) EXPECT_FALSE(pa.keys[i] == pg.keys[i]);
  ASSERT_TRUE(acme->Put(a, a.id, pa.keys, pa.tokens, Payload(a, 4, 1)).ok());

  // Globex asks for the same prompt: with its own keys, and with acme's keys
  // (as if leaked), under its own namespace. Neither finds acme's blocks.
  EXPECT_EQ(globex->Lookup(g, pg.keys, pg.tokens)->matched_blocks, 0u);
  EXPECT_EQ(globex->Lookup(g, pa.keys, pa.tokens)->matched_blocks, 0u);
  std::vector<std::byte> out(4 * kBlockBytes);
  EXPECT_EQ(*globex->Get(g, pa.keys, pa.tokens, out), 0u);
  // Its own put of the same tokens stores separate blocks.
  ASSERT_TRUE(globex->Put(g, g.id, pg.keys, pg.tokens, Payload(g, 4, 2)).ok());
  EXPECT_EQ(TierRow(*acme, "host").blocks, 8u);
  EXPECT_EQ(*acme->Get(a, pa.keys, pa.tokens, out), 4u);
  EXPECT_EQ(out, Payload(a, 4, 1));
  EXPECT_EQ(*globex->Get(g, pg.keys, pg.tokens, out), 4u);
  EXPECT_EQ(out, Payload(g, 4, 2));
}

TEST_F(TenantsTest, ClientsOpenOnlyTheTenantsTheirTokenAllows) {
  auto anonymous = ConnectAs("");
  auto acme = ConnectAs(kAcmeToken);
  auto wrong = ConnectAs("not-a-token");
  EXPECT_EQ(anonymous->OpenNamespace(TestSpec(kBlockBytes, 16, "acme")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(wrong->OpenNamespace(TestSpec(kBlockBytes, 16, "acme")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(acme->OpenNamespace(TestSpec(kBlockBytes, 16, "globex")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(acme->OpenNamespace(TestSpec(kBlockBytes, 16, "acme")).ok());
  // Tenants not listed under [tenants] (the default one) need no token.
  EXPECT_TRUE(anonymous->OpenNamespace(TestSpec(kBlockBytes, 16, "default")).ok());
}

TEST_F(TenantsTest, EvictAndFlushNeedTheAdminToken) {
  // Over TCP: on the Unix socket the daemon's own uid (root here) is admin.
  auto tenant = ConnectAs(kAcmeToken, "", /*tcp=*/true);
  auto wrong = ConnectAs(kAcmeToken, "guess", /*tcp=*/true);
  auto admin = ConnectAs("", kAdminToken, /*tcp=*/true);
  for (Client* c : {tenant.get(), wrong.get()}) {
    EXPECT_EQ(c->Evict(nullptr).status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(c->Flush().status().code(), StatusCode::kPermissionDenied);
  }
  const Namespace a = *tenant->OpenNamespace(TestSpec(kBlockBytes, 16, "acme"));
  const Prompt p = MakePrompt(a, 2);
  ASSERT_TRUE(tenant->Put(a, a.id, p.keys, p.tokens, Payload(a, 2, 3)).ok());
  EXPECT_EQ(tenant->Lookup(a, p.keys, p.tokens)->matched_blocks, 2u);  // refused evict kept it
  EXPECT_TRUE(admin->Flush().ok());
  EXPECT_GE(*admin->Evict(nullptr), 2u);
  EXPECT_EQ(tenant->Lookup(a, p.keys, p.tokens)->matched_blocks, 0u);
}

TEST(TenantSecretTest, NamespaceIdsAreSaltedWithTheDaemonSecret) {
  DaemonProcess one, two;
  ASSERT_TRUE(one.Start()) << one.log();
  ASSERT_TRUE(two.Start()) << two.log();
  const NamespaceSpec spec = TestSpec(kBlockBytes);
  const Key128 id_one = (*one.Connect())->OpenNamespace(spec)->id;
  const Key128 id_two = (*two.Connect())->OpenNamespace(spec)->id;
  EXPECT_FALSE(id_one == id_two) << "two daemons (two secrets) gave one id";
  // The secret persists: a restarted daemon gives the same id again.
  ASSERT_EQ(one.Stop(), 0);
  ASSERT_TRUE(one.Start()) << one.log();
  EXPECT_TRUE((*one.Connect())->OpenNamespace(spec)->id == id_one);
}

TEST(TenantSecretTest, DaemonsGivenOneSecretFileDeriveTheSameIds) {
  char dir[] = "/tmp/tierkv-fleet-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string secret_file = std::string(dir) + "/fleet.secret";
  {
    DaemonProcess one({"--secret-file", secret_file}), two({"--secret-file", secret_file});
    ASSERT_TRUE(one.Start()) << one.log();
    ASSERT_TRUE(two.Start()) << two.log();
    const NamespaceSpec spec = TestSpec(kBlockBytes, 16, "acme");
    const Key128 id_one = (*one.Connect())->OpenNamespace(spec)->id;
    EXPECT_TRUE((*two.Connect())->OpenNamespace(spec)->id == id_one)
        << "two daemons on one secret file gave different ids";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tierkv::testing
