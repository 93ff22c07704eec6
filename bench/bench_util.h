// Small measuring tools shared by tierkv's benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tierkv/keys.h"

namespace tierkv::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Latency samples in microseconds.
class Samples {
 public:
  void Add(double us) { v_.push_back(us); }
  double Percentile(double p) {
    if (v_.empty()) return 0;
    std::sort(v_.begin(), v_.end());
    const size_t i = std::min(v_.size() - 1, static_cast<size_t>(p / 100.0 * v_.size()));
    return v_[i];
  }
  size_t size() const { return v_.size(); }
  void Merge(const Samples& other) { v_.insert(v_.end(), other.v_.begin(), other.v_.end()); }

 private:
  std::vector<double> v_;
};

// A bare round trip to another process over a Unix stream socket pair: the
// floor any request/reply to a daemon over such a socket pays. The peer is a
// forked process (as tierkvd is: a round trip between processes costs more
// than one between threads) that answers each request with `reply_bytes`
// bytes and does nothing else. The peer exits with the object.
class BareEcho {
 public:
  static constexpr size_t kMessageBytes = 64;

  BareEcho();
  ~BareEcho();
  BareEcho(const BareEcho&) = delete;
  BareEcho& operator=(const BareEcho&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Sends `request_bytes` (at least 16) and waits for `reply_bytes`; returns
  // the microseconds it took, or a negative value when the peer is gone.
  double RoundTripUs(size_t request_bytes = kMessageBytes, size_t reply_bytes = kMessageBytes);

 private:
  int fd_ = -1;
  int pid_ = -1;
  std::vector<char> buf_;
};

// The tokens of prompt `p` of a run seeded by `seed`, `blocks` blocks of
// `block_tokens`: random, and distinct per prompt from the first block on.
std::vector<TokenId> PromptTokens(uint64_t seed, size_t p, size_t blocks, uint32_t block_tokens);

// Fills `out` with bytes derived from (seed, index), for verifiable payloads.
void FillPattern(uint64_t seed, uint64_t index, std::byte* out, size_t bytes);

}  // namespace tierkv::bench
