// stats without the admin token: a tenant sees its own namespaces only, and
// no namespace id (the root of a tenant's key chains); an admin sees all.
#include <gtest/gtest.h>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

using StatsTest = SecurityTest;

TEST_F(StatsTest, WithoutTheAdminTokenATenantSeesOnlyItsOwnNamespaces) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  auto globex = ConnectAs(kGlobexToken, "", /*tcp=*/true);
  ASSERT_TRUE(globex);
  ASSERT_TRUE(globex->OpenNamespace(TestSpec(kBlockBytes, kBlockTokens, "globex")).ok());
  auto stats = globex->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_EQ(stats->namespaces.size(), 1u);
  EXPECT_EQ(stats->namespaces[0].tenant, "globex");
  EXPECT_EQ(stats->namespaces[0].blocks, kStoredBlocks);
  EXPECT_TRUE(stats->namespaces[0].id_hex.empty()) << "ids are shown to admins only";
  // Tier totals stay visible (they name no tenant).
  EXPECT_FALSE(stats->tiers.empty());

  // A TCP client with no credentials at all: no namespace, no id, no tenant.
  auto anonymous = RawAs("", "", /*tcp=*/true);
  ASSERT_TRUE(anonymous);
  auto text = anonymous->StatsText();
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->find(ToHex(acme_.ns.id)), std::string::npos) << *text;
  EXPECT_EQ(text->find(ToHex(globex_.ns.id)), std::string::npos) << *text;
  EXPECT_EQ(text->find("\"acme\""), std::string::npos) << *text;
}

TEST_F(StatsTest, AnAdminSeesEveryNamespaceWithItsId) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  auto admin = ConnectAs("", kAdminToken, /*tcp=*/true);
  ASSERT_TRUE(admin);
  auto stats = admin->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  bool saw_acme = false;
  for (const NamespaceStats& n : stats->namespaces) {
    if (n.tenant == "acme") {
      saw_acme = true;
      EXPECT_EQ(n.id_hex, ToHex(acme_.ns.id));
    }
  }
  EXPECT_TRUE(saw_acme);
  EXPECT_EQ(stats->namespaces.size(), 2u);
}

}  // namespace
}  // namespace tierkv::testing
