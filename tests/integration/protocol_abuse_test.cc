// Malformed, truncated and oversized frames sent over a raw socket to a real
// tierkvd: each gets an error reply (or a close, when framing is lost), and
// the daemon keeps serving every other client with its blocks intact.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "protocol/messages.h"
#include "protocol/wire.h"
#include "tests/integration/daemon_process.h"

namespace tierkv::testing {
namespace {

using wire::FrameHeader;
using wire::MessageType;

class RawSocket {
 public:
  explicit RawSocket(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawSocket() { close(fd_); }
  bool connected() const { return connected_; }

  void Send(const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void SendFrame(uint16_t type, const std::vector<uint8_t>& body,
                 uint16_t version = wire::kProtocolVersion) {
    FrameHeader h;
    h.type = type;
    h.version = version;
    h.request_id = 9;
    h.body_bytes = static_cast<uint32_t>(body.size());
    std::vector<uint8_t> frame(wire::kHeaderBytes);
    wire::EncodeHeader(h, frame.data());
    frame.insert(frame.end(), body.begin(), body.end());
    Send(frame);
  }
  // Reads one reply frame; returns its status (Unavailable when the daemon closed).
  Status ReadReplyStatus() {
    uint8_t hdr[wire::kHeaderBytes];
    if (!ReadAll(hdr, sizeof hdr)) return Status::Unavailable("closed");
    FrameHeader h = wire::DecodeHeader(hdr);
    std::vector<uint8_t> body(h.body_bytes);
    if (!ReadAll(body.data(), body.size())) return Status::Unavailable("closed mid-reply");
    wire::Reader r(body);
    return wire::DecodeStatus(r);
  }
  bool ClosedByPeer() {
    uint8_t b;
    return recv(fd_, &b, 1, 0) == 0;
  }
  void Hello() {
    wire::HelloRequest req;
    std::vector<uint8_t> body;
    wire::Writer w(&body);
    req.Encode(w);
    SendFrame(static_cast<uint16_t>(MessageType::kHello), body);
    ASSERT_TRUE(ReadReplyStatus().ok());
  }
  // Opens `spec` on this connection: a namespace handle is usable only on a
  // connection that opened it.
  void Open(const NamespaceSpec& spec) {
    wire::OpenNamespaceRequest req;
    req.model_fingerprint = spec.model_fingerprint;
    req.tenant = spec.tenant;
    req.adapter_id = spec.adapter_id;
    req.kv_dtype = spec.kv_dtype;
    req.kv_layout = spec.kv_layout;
    req.block_tokens = spec.block_tokens;
    req.block_bytes = spec.block_bytes;
    std::vector<uint8_t> body;
    wire::Writer w(&body);
    req.Encode(w);
    SendFrame(static_cast<uint16_t>(MessageType::kOpenNamespace), body);
    ASSERT_TRUE(ReadReplyStatus().ok());
  }

 private:
  bool ReadAll(uint8_t* out, size_t n) {
    size_t got = 0;
    while (got < n) {
      ssize_t r = recv(fd_, out + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
};

class ProtocolAbuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonProcess>();
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
    client_ = std::move(daemon_->Connect()).value();
    ns_ = *client_->OpenNamespace(TestSpec(64 * 1024));
    prompt_ = MakePrompt(ns_, 4);
    payload_ = Payload(ns_, 4, 99);
    ASSERT_TRUE(client_->Put(ns_, ns_.id, prompt_.keys, prompt_.tokens, payload_).ok());
  }

  // The daemon still serves a well-behaved client, and the stored blocks are intact.
  void ExpectDaemonHealthy() {
    auto other = daemon_->Connect();
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    auto ns = (*other)->OpenNamespace(TestSpec(64 * 1024));
    ASSERT_TRUE(ns.ok());
    std::vector<std::byte> out(payload_.size());
    auto n = (*other)->Get(*ns, prompt_.keys, prompt_.tokens, out);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 4u);
    EXPECT_EQ(out, payload_);
  }

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Client> client_;
  Namespace ns_;
  Prompt prompt_;
  std::vector<std::byte> payload_;
};

TEST_F(ProtocolAbuseTest, BadMagicGetsAnErrorThenClose) {
  RawSocket s(daemon_->socket_path());
  ASSERT_TRUE(s.connected());
  s.Send(std::vector<uint8_t>(wire::kHeaderBytes, 0xAB));
  EXPECT_EQ(s.ReadReplyStatus().code(), StatusCode::kProtocolError);
  EXPECT_TRUE(s.ClosedByPeer());
  ExpectDaemonHealthy();
}

TEST_F(ProtocolAbuseTest, OversizedFrameGetsAnErrorThenClose) {
  RawSocket s(daemon_->socket_path());
  FrameHeader h;
  h.type = static_cast<uint16_t>(MessageType::kLookup);
  h.body_bytes = wire::kMaxBodyBytes + 1;
  std::vector<uint8_t> frame(wire::kHeaderBytes);
  wire::EncodeHeader(h, frame.data());
  s.Send(frame);
  Status st = s.ReadReplyStatus();
  EXPECT_EQ(st.code(), StatusCode::kProtocolError);
  EXPECT_NE(st.message().find("exceeds"), std::string::npos) << st.ToString();
  EXPECT_TRUE(s.ClosedByPeer()) << "framing is lost after a bad header: the daemon must close";
  ExpectDaemonHealthy();
}

TEST_F(ProtocolAbuseTest, TruncatedFramesAndHangupsAreHarmless) {
  for (size_t cut : {size_t{3}, wire::kHeaderBytes, wire::kHeaderBytes + 10}) {
    RawSocket s(daemon_->socket_path());
    s.Hello();
    FrameHeader h;
    h.type = static_cast<uint16_t>(MessageType::kLookup);
    h.body_bytes = 4000;
    std::vector<uint8_t> frame(wire::kHeaderBytes + 4000, 0x11);
    wire::EncodeHeader(h, frame.data());
    frame.resize(cut);
    s.Send(frame);
  }  // each socket closes here, mid-frame
  ExpectDaemonHealthy();
}

TEST_F(ProtocolAbuseTest, MalformedBodiesGetErrorsAndTheConnectionGoesOn) {
  RawSocket s(daemon_->socket_path());
  // Before hello: refused.
  s.SendFrame(static_cast<uint16_t>(MessageType::kStats), {});
  EXPECT_EQ(s.ReadReplyStatus().code(), StatusCode::kProtocolError);
  s.Hello();
  // Garbage bodies for every request type after hello.
  constexpr auto kFirstAfterHello = static_cast<uint16_t>(MessageType::kOpenNamespace);
  constexpr auto kLastType = static_cast<uint16_t>(MessageType::kGpuPool);
  for (uint16_t type = kFirstAfterHello; type <= kLastType; ++type) {
    s.SendFrame(type, std::vector<uint8_t>(37, 0xEE));
    Status st = s.ReadReplyStatus();
    EXPECT_EQ(st.code(), StatusCode::kProtocolError)
        << wire::MessageTypeName(type) << ": " << st.ToString();
    EXPECT_NE(st.code(), StatusCode::kUnavailable)
        << wire::MessageTypeName(type) << " closed the connection";
  }
  // Unknown type and unsupported version.
  s.SendFrame(777, {});
  EXPECT_EQ(s.ReadReplyStatus().code(), StatusCode::kProtocolError);
  s.SendFrame(static_cast<uint16_t>(MessageType::kStats), {}, /*version=*/42);
  EXPECT_EQ(s.ReadReplyStatus().code(), StatusCode::kUnsupported);
  // Hostile counts: a lookup claiming 4096 blocks that sends none.
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  w.U32(ns_.handle);
  w.U8(0);
  w.Key(ns_.id);
  w.U32(wire::kMaxBlocksPerRequest);
  w.U32(16);
  s.SendFrame(static_cast<uint16_t>(MessageType::kLookup), body);
  EXPECT_EQ(s.ReadReplyStatus().code(), StatusCode::kProtocolError);
  // Releasing and committing what this connection does not hold.
  std::vector<uint8_t> id_body;
  wire::Writer iw(&id_body);
  iw.U64(12345);
  s.SendFrame(static_cast<uint16_t>(MessageType::kRelease), id_body);
  EXPECT_EQ(s.ReadReplyStatus().code(), StatusCode::kNotFound);
  s.SendFrame(static_cast<uint16_t>(MessageType::kCommit), id_body);
  EXPECT_EQ(s.ReadReplyStatus().code(), StatusCode::kNotFound);
  // The same connection still works.
  s.SendFrame(static_cast<uint16_t>(MessageType::kHealth), {});
  EXPECT_TRUE(s.ReadReplyStatus().ok());
  ExpectDaemonHealthy();
}

// Protocol version 1 (before per-block tiers in acquire replies) is no longer
// spoken: its frames and its hello get `unsupported`, saying which versions
// are, and the connection goes on.
TEST_F(ProtocolAbuseTest, VersionOneClientsGetUnsupported) {
  constexpr uint16_t kVersionOne = 1;
  ASSERT_LT(kVersionOne, wire::kMinProtocolVersion);
  RawSocket s(daemon_->socket_path());
  ASSERT_TRUE(s.connected());
  wire::HelloRequest hello;
  hello.min_version = kVersionOne;
  hello.max_version = kVersionOne;
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  hello.Encode(w);
  s.SendFrame(static_cast<uint16_t>(MessageType::kHello), body, kVersionOne);
  Status st = s.ReadReplyStatus();
  EXPECT_EQ(st.code(), StatusCode::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("protocol version 1 is not supported"), std::string::npos)
      << st.ToString();
  // The same hello in a current frame: no common version.
  s.SendFrame(static_cast<uint16_t>(MessageType::kHello), body);
  st = s.ReadReplyStatus();
  EXPECT_EQ(st.code(), StatusCode::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("no common protocol version"), std::string::npos) << st.ToString();
  s.Hello();  // a current hello on the same connection still works
  ExpectDaemonHealthy();
}

TEST_F(ProtocolAbuseTest, InlinePutWithWrongPayloadSizeIsRejected) {
  RawSocket s(daemon_->socket_path());
  s.Hello();
  s.Open(TestSpec(64 * 1024));
  const Prompt p = MakePrompt(ns_, 2, 4242);
  wire::ReserveRequest req;
  req.ns_handle = ns_.handle;
  req.flags = wire::kFlagInline;
  req.chain.parent = ns_.id;
  req.chain.keys = p.keys;
  req.chain.tokens = p.tokens;
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  req.Encode(w);
  body.resize(body.size() + ns_.block_bytes);  // one block's bytes for two blocks
  s.SendFrame(static_cast<uint16_t>(MessageType::kReserve), body);
  const Status st = s.ReadReplyStatus();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("inline payload: got " + std::to_string(ns_.block_bytes) +
                              " bytes, want " + std::to_string(2 * ns_.block_bytes)),
            std::string::npos)
      << st.ToString();
  EXPECT_EQ(client_->Lookup(ns_, p.keys, p.tokens)->matched_blocks, 0u);
  ExpectDaemonHealthy();
}

}  // namespace
}  // namespace tierkv::testing
