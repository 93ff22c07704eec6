#include "bench/bench_util.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace tierkv::bench {

double MeasureMemcpyGbps(size_t block_bytes, size_t blocks, int passes) {
  std::vector<std::byte> src(block_bytes * blocks), dst(block_bytes * blocks);
  std::memset(src.data(), 1, src.size());
  std::memset(dst.data(), 2, dst.size());
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    const auto t0 = Clock::now();
    for (size_t i = 0; i < blocks; ++i) {
      std::memcpy(dst.data() + i * block_bytes, src.data() + i * block_bytes, block_bytes);
    }
    best = std::max(best, static_cast<double>(src.size()) / SecondsSince(t0) / 1e9);
  }
  return best;
}

Samples MeasureBareRoundTrips(size_t message_bytes, int iterations) {
  int fds[2];
  Samples samples;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return samples;
  // The echo side is another process, as tierkvd is: a round trip between
  // processes costs more than one between threads of one process.
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::vector<char> buf(message_bytes);
    for (int i = 0; i < iterations; ++i) {
      size_t got = 0;
      while (got < message_bytes) {
        ssize_t n = read(fds[1], buf.data() + got, message_bytes - got);
        if (n <= 0) _exit(0);
        got += static_cast<size_t>(n);
      }
      if (write(fds[1], buf.data(), message_bytes) != static_cast<ssize_t>(message_bytes)) _exit(1);
    }
    _exit(0);
  }
  close(fds[1]);
  std::vector<char> msg(message_bytes, 'x');
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = Clock::now();
    if (write(fds[0], msg.data(), message_bytes) != static_cast<ssize_t>(message_bytes)) break;
    size_t got = 0;
    while (got < message_bytes) {
      ssize_t n = read(fds[0], msg.data() + got, message_bytes - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    samples.Add(SecondsSince(t0) * 1e6);
  }
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return samples;
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
