#include "bench/bench_util.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <random>

namespace tierkv::bench {

namespace {

// Each request starts with this header: its own length, then the reply's.
struct EchoHeader {
  uint64_t request_bytes;
  uint64_t reply_bytes;
};

bool ReadFull(int fd, char* out, size_t n) {
  for (size_t got = 0; got < n;) {
    const ssize_t r = read(fd, out + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

bool WriteFull(int fd, const char* in, size_t n) {
  for (size_t put = 0; put < n;) {
    const ssize_t w = write(fd, in + put, n - put);
    if (w <= 0) return false;
    put += static_cast<size_t>(w);
  }
  return true;
}

[[noreturn]] void ServeEcho(int fd) {
  std::vector<char> buf;
  for (;;) {
    EchoHeader h;
    if (!ReadFull(fd, reinterpret_cast<char*>(&h), sizeof h)) _exit(0);
    const size_t body = h.request_bytes - sizeof h;
    buf.resize(std::max(body, h.reply_bytes));
    if (!ReadFull(fd, buf.data(), body) || !WriteFull(fd, buf.data(), h.reply_bytes)) _exit(0);
  }
}

}  // namespace

BareEcho::BareEcho() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    ServeEcho(fds[1]);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return;
  }
  fd_ = fds[0];
  pid_ = pid;
}

BareEcho::~BareEcho() {
  if (fd_ >= 0) close(fd_);  // the peer reads EOF and exits
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

double BareEcho::RoundTripUs(size_t request_bytes, size_t reply_bytes) {
  request_bytes = std::max(request_bytes, sizeof(EchoHeader));
  buf_.resize(std::max(request_bytes, reply_bytes));
  const EchoHeader h{request_bytes, reply_bytes};
  std::memcpy(buf_.data(), &h, sizeof h);
  const auto t0 = Clock::now();
  if (!WriteFull(fd_, buf_.data(), request_bytes) || !ReadFull(fd_, buf_.data(), reply_bytes)) {
    return -1;
  }
  return SecondsSince(t0) * 1e6;
}

std::vector<TokenId> PromptTokens(uint64_t seed, size_t p, size_t blocks, uint32_t block_tokens) {
  constexpr uint32_t kVocabulary = 32000;
  std::vector<TokenId> t(blocks * block_tokens);
  std::mt19937 rng(static_cast<uint32_t>(seed * 1000003 + p));
  for (auto& x : t) x = rng() % kVocabulary;
  if (!t.empty()) t[0] = static_cast<TokenId>(p);  // distinct first block per prompt
  return t;
}

void FillPattern(uint64_t seed, uint64_t index, std::byte* out, size_t bytes) {
  // splitmix64 stream: fast enough to fill GB/s, different for every block.
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + index * 0xD1B54A32D192ED03ull + 1;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(out + i, &z, 8);
  }
  for (; i < bytes; ++i) out[i] = static_cast<std::byte>(x >> (i % 8));
}

}  // namespace tierkv::bench
