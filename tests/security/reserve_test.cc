// Reserves that could expose or destroy what others stored: a TCP reserve
// without its payload (commit without writing, then read back the slot's
// previous occupant: stale bytes) is refused; a reserve that can never fit in
// the host tier is refused before anything is evicted, and says why.
#include <gtest/gtest.h>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

using wire::MessageType;

using ReserveTest = SecurityTest;

wire::ReserveRequest ReserveOf(uint32_t handle, const Namespace& ns, const Prompt& p) {
  wire::ReserveRequest reserve;
  reserve.ns_handle = handle;
  reserve.chain.parent = ns.id;
  reserve.chain.keys = p.keys;
  reserve.chain.tokens = p.tokens;
  return reserve;
}

TEST_F(ReserveTest, ATcpReserveWithoutItsPayloadIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  auto raw = RawAs(kGlobexToken, "", /*tcp=*/true);
  ASSERT_TRUE(raw);
  auto own = raw->Open(SpecFor("globex"));
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  const Prompt fresh = MakePrompt(globex_.ns, 2, /*first=*/9000);
  const auto reply = raw->Call(MessageType::kReserve, ReserveOf(own->handle, globex_.ns, fresh));
  EXPECT_EQ(reply.status.code(), StatusCode::kInvalidArgument) << reply.status.ToString();
  EXPECT_NE(reply.status.message().find("inline"), std::string::npos) << reply.status.ToString();
  // Nothing was reserved: there is nothing to commit and nothing to read.
  wire::IdRequest commit{1};
  EXPECT_EQ(raw->Call(MessageType::kCommit, commit).status.code(), StatusCode::kNotFound);
  auto found = globex_.client->Lookup(globex_.ns, fresh.keys, fresh.tokens);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->matched_blocks, 0u);
}

TEST_F(ReserveTest, AReserveThatCanNeverFitIsRefusedBeforeAnythingIsEvicted) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  auto raw = RawAs(kGlobexToken);  // local: a reserve without payload is allowed
  ASSERT_TRUE(raw);
  auto own = raw->Open(SpecFor("globex"));
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  auto before = acme_.client->GetStats();
  ASSERT_TRUE(before.ok());
  uint64_t host_capacity = 0;
  for (const TierStats& t : before->tiers) {
    if (t.name == "host") host_capacity = t.capacity_bytes;
  }
  ASSERT_GT(host_capacity, 0u);
  const size_t blocks = host_capacity / kBlockBytes + 1;
  ASSERT_LE(blocks, wire::kMaxBlocksPerRequest);
  const Prompt huge = MakePrompt(globex_.ns, blocks, /*first=*/20000);
  const auto reply = raw->Call(MessageType::kReserve, ReserveOf(own->handle, globex_.ns, huge));
  EXPECT_EQ(reply.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(reply.status.message().find("can never fit"), std::string::npos)
      << reply.status.ToString();
  EXPECT_EQ(reply.status.message().find("pinned"), std::string::npos) << reply.status.ToString();
  auto after = acme_.client->GetStats();
  ASSERT_TRUE(after.ok());
  for (size_t i = 0; i < after->tiers.size(); ++i) {
    EXPECT_EQ(after->tiers[i].evictions, before->tiers[i].evictions) << after->tiers[i].name;
  }
}

}  // namespace
}  // namespace tierkv::testing
