// tierkv-handler-bench: the daemon's own work for one lookup, without a
// socket: RequestHandler::Handle on lookup frames of N-block prefixes, as a
// session hands them over (decode, verified match, LRU touches, reply). It is
// the part of a lookup's round trip that is not the round trip itself
// (`tierkv-bench --workload lookup` prints both ends); printed beside a bare
// round trip over a Unix socket measured in the same run, which it is a
// fraction of.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "daemon/block_store.h"
#include "daemon/connection_resources.h"
#include "daemon/namespace_registry.h"
#include "daemon/request_handler.h"
#include "protocol/messages.h"
#include "tiers/host/host_tier.h"

namespace tierkv::bench {
namespace {

constexpr uint32_t kBlockTokens = 16;
constexpr uint64_t kBlockBytes = 4096;
constexpr uint64_t kPoolBytes = 256ull << 20;
constexpr uint64_t kSlabBytes = 8ull << 20;
constexpr char kSecret[] = "tierkv-handler-bench-secret-0123";

struct Options {
  std::vector<uint32_t> prefix_blocks = {1, 64, 256, 1024};
  int iterations = 20000;
};

template <typename T>
std::vector<uint8_t> Frame(wire::MessageType type, const T& message, uint32_t id) {
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  message.Encode(w);
  wire::FrameHeader h;
  h.type = static_cast<uint16_t>(type);
  h.request_id = id;
  h.body_bytes = static_cast<uint32_t>(body.size());
  std::vector<uint8_t> frame(wire::kHeaderBytes);
  wire::EncodeHeader(h, frame.data());
  frame.insert(frame.end(), body.begin(), body.end());
  return frame;
}

class Daemon {
 public:
  Daemon()
      : host_(std::move(HostTier::Create(kPoolBytes, kSlabBytes)).value()),
        registry_(kSecret, {}, kSlabBytes),
        store_(host_.get()),
        handler_(&store_, &registry_, {"", "handler-bench", "bench"}),
        conn_(std::make_shared<ConnectionResources>(&store_, /*local=*/true)) {}

  // Handles one frame; the reply's status.
  Status Handle(const std::vector<uint8_t>& frame) {
    const wire::FrameHeader h = wire::DecodeHeader(frame.data());
    reply_.clear();
    int fd = -1;
    handler_.Handle(*conn_, h, std::span(frame).subspan(wire::kHeaderBytes), &reply_, &fd);
    wire::Reader r{std::span(reply_).subspan(wire::kHeaderBytes)};
    return wire::DecodeStatus(r);
  }
  const std::vector<uint8_t>& reply() const { return reply_; }

 private:
  std::unique_ptr<HostTier> host_;
  NamespaceRegistry registry_;
  BlockStore store_;
  RequestHandler handler_;
  std::shared_ptr<ConnectionResources> conn_;
  std::vector<uint8_t> reply_;
};

int Main(const Options& o) {
  Daemon d;
  Status s = d.Handle(Frame(wire::MessageType::kHello, wire::HelloRequest{}, 1));
  wire::OpenNamespaceRequest open;
  open.model_fingerprint = "handler-bench";
  open.tenant = "default";
  open.kv_dtype = "f16";
  open.kv_layout = "layer-major";
  open.block_tokens = kBlockTokens;
  open.block_bytes = kBlockBytes;
  if (s.ok()) s = d.Handle(Frame(wire::MessageType::kOpenNamespace, open, 2));
  wire::OpenNamespaceReply ns;
  wire::Reader r{std::span(d.reply()).subspan(wire::kHeaderBytes)};
  if (s.ok() && (!wire::DecodeStatus(r).ok() || !wire::OpenNamespaceReply::Decode(r, &ns))) {
    s = Status::Internal("bad open_namespace reply");
  }
  if (!s.ok()) {
    std::fprintf(stderr, "tierkv-handler-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  BareEcho echo;
  for (uint32_t n : o.prefix_blocks) {
    wire::ReserveRequest put;
    put.ns_handle = ns.handle;
    put.flags = wire::kFlagInline;
    put.chain.parent = ns.id;
    put.chain.tokens = PromptTokens(99, n, n, kBlockTokens);
    put.chain.keys = ChainBlockKeys(ns.id, put.chain.tokens, kBlockTokens);
    std::vector<uint8_t> frame = Frame(wire::MessageType::kReserve, put, 3);
    frame.resize(frame.size() + n * kBlockBytes);  // the inline payloads
    wire::FrameHeader h = wire::DecodeHeader(frame.data());
    h.body_bytes = static_cast<uint32_t>(frame.size() - wire::kHeaderBytes);
    wire::EncodeHeader(h, frame.data());
    if (Status put_status = d.Handle(frame); !put_status.ok()) {
      std::fprintf(stderr, "tierkv-handler-bench: %s\n", put_status.ToString().c_str());
      return 1;
    }
    wire::LookupRequest lookup;
    lookup.ns_handle = ns.handle;
    lookup.chain = put.chain;
    const auto lookup_frame = Frame(wire::MessageType::kLookup, lookup, 4);
    Samples handle, bare;
    for (int i = 0; i < o.iterations; ++i) {
      const auto t0 = Clock::now();
      const Status ls = d.Handle(lookup_frame);
      handle.Add(SecondsSince(t0) * 1e6);
      if (!ls.ok()) {
        std::fprintf(stderr, "tierkv-handler-bench: %s\n", ls.ToString().c_str());
        return 1;
      }
      if (i % 10 == 0) bare.Add(echo.RoundTripUs());
    }
    const double p50 = handle.Percentile(50);
    std::printf(
        "handle lookup  prefix %5u blocks  p10 %7.2f us  p50 %7.2f us  (%5.1f ns/block)  | bare "
        "round trip p50 %6.1f us: handling is %.0f%% of it\n",
        n, handle.Percentile(10), p50, p50 * 1e3 / n, bare.Percentile(50),
        100 * p50 / bare.Percentile(50));
  }
  return 0;
}

}  // namespace
}  // namespace tierkv::bench

int main(int argc, char** argv) {
  tierkv::bench::Options o;
  CLI::App app{
      "tierkv-handler-bench: the daemon's own work for a lookup (no socket) beside a bare round "
      "trip",
      "tierkv-handler-bench"};
  app.add_option("--prefix-blocks", o.prefix_blocks, "Prefix lengths in blocks")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--iterations", o.iterations, "Lookups per prefix length")
      ->check(CLI::Range(100, 10000000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return tierkv::bench::Main(o);
}
