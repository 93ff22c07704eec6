// Chains rooted in their namespace: a block is accepted only when its parent
// is its namespace's root or a ready block of the same namespace (or the block
// before it in the same request). Squatting, pre-committing keys in a chain
// rooted at another namespace's id so that the victim's later put is answered
// "stored" but its lookups miss, is refused.
#include <gtest/gtest.h>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

using wire::MessageType;

using ChainsTest = SecurityTest;

Status ReserveInline(RawClient& raw, uint32_t handle, const Key128& parent, const Prompt& blocks,
                     uint64_t block_bytes) {
  wire::ReserveRequest reserve;
  reserve.ns_handle = handle;
  reserve.flags = wire::kFlagInline;
  reserve.chain.parent = parent;
  reserve.chain.keys = blocks.keys;
  reserve.chain.tokens = blocks.tokens;
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  reserve.Encode(w);
  body.resize(body.size() + blocks.keys.size() * block_bytes, 0x5A);
  return raw.Call(MessageType::kReserve, body).status;
}

TEST_F(ChainsTest, BlocksRootedInAnotherNamespaceAreRefused) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  // The prompt acme will store next, with the keys its own chain gives it.
  const Prompt future = MakePrompt(acme_.ns, 2, /*first=*/5000);
  for (bool tcp : {true, false}) {
    SCOPED_TRACE(tcp ? "tcp" : "unix");
    auto attacker = RawAs(kGlobexToken, "", tcp);
    ASSERT_TRUE(attacker);
    auto own = attacker->Open(SpecFor("globex"));
    ASSERT_TRUE(own.ok()) << own.status().ToString();
    // Rooted at acme's namespace id, under the attacker's own handle.
    EXPECT_EQ(ReserveInline(*attacker, own->handle, acme_.ns.id, future, kBlockBytes).code(),
              StatusCode::kInvalidArgument);
    // Continuing one of acme's stored blocks.
    Prompt next;
    next.tokens.assign(kBlockTokens, 7);
    next.keys = {NextBlockKey(acme_.prompt.keys.back(), next.tokens)};
    EXPECT_EQ(
        ReserveInline(*attacker, own->handle, acme_.prompt.keys.back(), next, kBlockBytes).code(),
        StatusCode::kInvalidArgument);
    // Under a parent no namespace holds.
    const Key128 nowhere{0x1234, 0x5678};
    next.keys = {NextBlockKey(nowhere, next.tokens)};
    EXPECT_EQ(ReserveInline(*attacker, own->handle, nowhere, next, kBlockBytes).code(),
              StatusCode::kInvalidArgument);
    // Its own chain, rooted at its own id or continuing its own block, is fine.
    next.keys = {NextBlockKey(globex_.prompt.keys.back(), next.tokens)};
    EXPECT_TRUE(
        ReserveInline(*attacker, own->handle, globex_.prompt.keys.back(), next, kBlockBytes).ok());
  }
  // acme's put of that prompt stores it, and its lookups find it.
  ASSERT_TRUE(
      acme_.client->Put(acme_.ns, acme_.ns.id, future.keys, future.tokens, Payload(acme_.ns, 2, 9))
          .ok());
  auto found = acme_.client->Lookup(acme_.ns, future.keys, future.tokens);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->matched_blocks, 2u);
}

}  // namespace
}  // namespace tierkv::testing
