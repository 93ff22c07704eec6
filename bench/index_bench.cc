#include "bench/index_bench.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "bench/bench_util.h"

namespace tierkv::bench {
namespace {

constexpr uint32_t kBlockTokens = 16;
// Lookup cost does not depend on payload size; small blocks let a long
// prefix fit any pool.
constexpr uint64_t kIndexBlockBytes = 4096;
constexpr size_t kMemoryPromptBlocks = 32;
// What each indexed block must keep: its key, its parent's key, its
// namespace id and its tokens (for verified hits).
constexpr double kMustKeepBytes = 3 * sizeof(Key128) + kBlockTokens * sizeof(TokenId);
// Frame sizes of a lookup on the wire (protocol/messages.h).
constexpr size_t kFrameHeaderBytes = 16;
constexpr size_t kLookupFixedBytes = 4 + 1 + sizeof(Key128) + 4 + 4;
constexpr size_t kReplyFixedBytes = 2 + 4 + 4;

Result<Namespace> OpenIndexNamespace(Client& client, const char* fingerprint) {
  NamespaceSpec spec;
  spec.model_fingerprint = fingerprint;
  spec.block_tokens = kBlockTokens;
  spec.block_bytes = kIndexBlockBytes;
  return client.OpenNamespace(spec);
}

}  // namespace

Status RunLookupBench(Client& client, const LookupBenchOptions& o) {
  TIERKV_ASSIGN_OR_RETURN(Namespace ns, OpenIndexNamespace(client, "tierkv-bench-lookup"));
  BareEcho echo;
  if (!echo.ok()) return Status::Internal("cannot start the bare round-trip peer");
  for (uint32_t n : o.prefix_blocks) {
    const auto tokens = PromptTokens(o.seed + 7777, n, n, kBlockTokens);
    const auto keys = ChainBlockKeys(ns.id, tokens, kBlockTokens);
    std::vector<std::byte> payload(n * kIndexBlockBytes, std::byte{3});
    TIERKV_RETURN_IF_ERROR(client.Put(ns, ns.id, keys, tokens, payload));
    const size_t request_bytes = kFrameHeaderBytes + kLookupFixedBytes +
                                 n * (sizeof(Key128) + kBlockTokens * sizeof(TokenId));
    const size_t reply_bytes = kFrameHeaderBytes + kReplyFixedBytes + n;
    // Interleaved, so that the load of the machine weighs on all three alike.
    Samples lookup, bare, bare_same_bytes;
    for (int i = 0; i < o.iterations; ++i) {
      const auto t0 = Clock::now();
      TIERKV_ASSIGN_OR_RETURN(LookupResult r, client.Lookup(ns, keys, tokens));
      lookup.Add(SecondsSince(t0) * 1e6);
      if (r.matched_blocks != n) {
        return Status::Internal("lookup matched " + std::to_string(r.matched_blocks) + " of " +
                                std::to_string(n) + " blocks");
      }
      const double us = echo.RoundTripUs();
      const double same_us = echo.RoundTripUs(request_bytes, reply_bytes);
      if (us < 0 || same_us < 0) return Status::Internal("the bare round-trip peer is gone");
      bare.Add(us);
      bare_same_bytes.Add(same_us);
    }
    const double ratio = lookup.Percentile(50) / bare.Percentile(50);
    if (o.json) {
      std::cout << nlohmann::json{{"op", "lookup"},
                                  {"prefix_blocks", n},
                                  {"request_bytes", request_bytes},
                                  {"p50_us", lookup.Percentile(50)},
                                  {"p99_us", lookup.Percentile(99)},
                                  {"bare_rt_p50_us", bare.Percentile(50)},
                                  {"bare_rt_p99_us", bare.Percentile(99)},
                                  {"p50_vs_bare", ratio},
                                  {"bare_same_bytes_p50_us", bare_same_bytes.Percentile(50)}}
                       .dump()
                << std::endl;
    } else {
      std::printf(
          "lookup   prefix %5u blocks  p50 %7.1f us  p99 %7.1f us  | bare round trip p50 %6.1f "
          "us  p99 %6.1f us  ratio %.2fx  | same bytes (%zu B) p50 %6.1f us\n",
          n, lookup.Percentile(50), lookup.Percentile(99), bare.Percentile(50), bare.Percentile(99),
          ratio, request_bytes, bare_same_bytes.Percentile(50));
    }
  }
  auto evicted = client.Evict(&ns);
  return evicted.ok() ? Status::Ok() : evicted.status();
}

Status RunMemoryBench(Client& client, const MemoryBenchOptions& o) {
  TIERKV_ASSIGN_OR_RETURN(Namespace ns, OpenIndexNamespace(client, "tierkv-bench-memory"));
  TIERKV_ASSIGN_OR_RETURN(Stats before, client.GetStats());
  std::vector<std::byte> payload(kMemoryPromptBlocks * kIndexBlockBytes);
  for (size_t stored = 0, p = 0; stored < o.blocks; ++p) {
    const size_t n = std::min(kMemoryPromptBlocks, o.blocks - stored);
    const auto tokens = PromptTokens(o.seed + 31337, p, n, kBlockTokens);
    const auto keys = ChainBlockKeys(ns.id, tokens, kBlockTokens);
    TIERKV_RETURN_IF_ERROR(
        client.Put(ns, ns.id, keys, tokens, std::span(payload).first(n * kIndexBlockBytes)));
    stored += n;
  }
  TIERKV_ASSIGN_OR_RETURN(Stats after, client.GetStats());
  const auto b = nlohmann::json::parse(before.raw_json);
  const auto a = nlohmann::json::parse(after.raw_json);
  const double blocks = a.value("indexed_blocks", 0.0) - b.value("indexed_blocks", 0.0);
  const double bytes = a.value("rss_anon_bytes", 0.0) - b.value("rss_anon_bytes", 0.0);
  const double per_block = blocks > 0 ? bytes / blocks : 0;
  if (blocks < static_cast<double>(o.blocks)) {
    return Status::Internal("only " + std::to_string(static_cast<size_t>(blocks)) + " of " +
                            std::to_string(o.blocks) +
                            " blocks were indexed: is the host tier large enough?");
  }
  if (o.json) {
    std::cout << nlohmann::json{{"op", "memory"},
                                {"block_bytes", kIndexBlockBytes},
                                {"indexed_blocks_added", blocks},
                                {"daemon_bytes_per_block", per_block},
                                {"must_keep_bytes_per_block", kMustKeepBytes},
                                {"ratio", per_block / kMustKeepBytes}}
                     .dump()
              << std::endl;
  } else {
    std::printf(
        "memory   %llu blocks of %llu B indexed  daemon %6.1f B/block (RssAnon growth)  | must "
        "keep %.0f B/block (key, parent, namespace, %u tokens)  ratio %.2fx\n",
        static_cast<unsigned long long>(blocks), static_cast<unsigned long long>(kIndexBlockBytes),
        per_block, kMustKeepBytes, kBlockTokens, per_block / kMustKeepBytes);
  }
  auto evicted = client.Evict(&ns);
  return evicted.ok() ? Status::Ok() : evicted.status();
}

}  // namespace tierkv::bench
