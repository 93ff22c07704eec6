// Namespace handles are usable only on the connection that opened them. An
// attacker that learned another tenant's handle (stats used to list every
// one) and whose open of that tenant was refused cannot probe, read, plant or
// pin that tenant's blocks with it, over TCP or the Unix socket.
#include <gtest/gtest.h>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

using wire::MessageType;

class HandlesTest : public SecurityTest {
 protected:
  // Every request that names a namespace, sent with `handle` on `raw`: each
  // must be refused as if the handle did not exist.
  void ExpectHandleRefused(RawClient& raw, uint32_t handle) {
    const Prompt more = MakePrompt(acme_.ns, kStoredBlocks + 2);
    wire::LookupRequest lookup;
    lookup.ns_handle = handle;
    lookup.chain = ChainOf(acme_.prompt, acme_.ns.id);
    EXPECT_EQ(raw.Call(MessageType::kLookup, lookup).status.code(), StatusCode::kNotFound);

    wire::AcquireRequest acquire;
    acquire.ns_handle = handle;
    acquire.max_blocks = kStoredBlocks;
    acquire.chain = lookup.chain;
    for (uint8_t flags : {uint8_t{0}, wire::kFlagInline}) {
      acquire.flags = flags;
      EXPECT_EQ(raw.Call(MessageType::kAcquire, acquire).status.code(), StatusCode::kNotFound);
    }

    // Planting: two blocks that continue acme's prompt, with poison bytes.
    wire::ReserveRequest reserve;
    reserve.ns_handle = handle;
    reserve.chain.parent = acme_.prompt.keys.back();
    reserve.chain.keys.assign(more.keys.begin() + kStoredBlocks, more.keys.end());
    reserve.chain.tokens.assign(more.tokens.begin() + kStoredBlocks * kBlockTokens,
                                more.tokens.end());
    for (uint8_t flags : {uint8_t{0}, wire::kFlagInline}) {
      reserve.flags = flags;
      std::vector<uint8_t> body;
      wire::Writer w(&body);
      reserve.Encode(w);
      if (flags & wire::kFlagInline) body.resize(body.size() + 2 * kBlockBytes, 0xEE);
      EXPECT_EQ(raw.Call(MessageType::kReserve, body).status.code(), StatusCode::kNotFound);
    }
    // Nothing was planted after acme's prompt.
    auto found = acme_.client->Lookup(acme_.ns, more.keys, more.tokens);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ(found->matched_blocks, kStoredBlocks);
  }
};

TEST_F(HandlesTest, AnotherTenantsHandleIsRefusedOnEveryRequest) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  for (bool tcp : {true, false}) {
    SCOPED_TRACE(tcp ? "tcp" : "unix");
    auto anonymous = RawAs("", "", tcp);
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->Open(SpecFor("acme")).status().code(), StatusCode::kPermissionDenied);
    ExpectHandleRefused(*anonymous, acme_.ns.handle);

    // A tenant with credentials of its own fares no better with acme's handle.
    auto globex = RawAs(kGlobexToken, "", tcp);
    ASSERT_TRUE(globex);
    ASSERT_TRUE(globex->Open(SpecFor("globex")).ok());
    ExpectHandleRefused(*globex, acme_.ns.handle);
  }
  // Not one block of acme's was pinned by the attempts.
  auto admin = ConnectAs("", kAdminToken);
  ASSERT_TRUE(admin);
  auto stats = admin->GetStats();
  ASSERT_TRUE(stats.ok());
  for (const TierStats& t : stats->tiers) EXPECT_EQ(t.pinned_blocks, 0u) << t.name;
  // Refusals are logged (at most one line a second, with a count of the
  // rest: the first here is the refused open).
  EXPECT_NE(daemon_->log().find("credentials refused: "), std::string::npos)
      << daemon_->log();
}

TEST_F(HandlesTest, AHandleWorksOnlyOnTheConnectionThatOpenedIt) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  // acme's own credentials on a second connection: the handle is refused
  // until this connection opens the namespace itself.
  auto second = RawAs(kAcmeToken);
  ASSERT_TRUE(second);
  wire::LookupRequest lookup;
  lookup.ns_handle = acme_.ns.handle;
  lookup.chain = ChainOf(acme_.prompt, acme_.ns.id);
  EXPECT_EQ(second->Call(MessageType::kLookup, lookup).status.code(), StatusCode::kNotFound);
  auto opened = second->Open(SpecFor("acme"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->handle, acme_.ns.handle);
  auto reply = second->Call(MessageType::kLookup, lookup);
  ASSERT_TRUE(reply.status.ok()) << reply.status.ToString();
  wire::LookupReply found;
  wire::Reader r(reply.fields);
  ASSERT_TRUE(wire::LookupReply::Decode(r, &found));
  EXPECT_EQ(found.tiers.size(), kStoredBlocks);
}

}  // namespace
}  // namespace tierkv::testing
