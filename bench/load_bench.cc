// tierkv-load-bench: many concurrent clients mixing lookup, acquire, release,
// reserve, commit and abort against a running tierkvd (the load test's mix,
// tests/integration/load_mix.h), then a check that every committed block is
// still there and exact. Prints request rate and latency percentiles.
//
//   tierkvd --socket /tmp/tkv.sock --tcp off --nvme-bytes 0 &
//   tierkv-load-bench --socket /tmp/tkv.sock --clients 64 --seconds 10
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/size_flag.h"
#include "tests/integration/load_mix.h"

int main(int argc, char** argv) {
  tierkv::testing::MixOptions o;
  o.address = "/tmp/tierkv.sock";
  double seconds = 10;
  bool json = false;
  CLI::App app{"tierkv-load-bench: a mixed multi-client load against a running tierkvd",
               "tierkv-load-bench"};
  app.add_option("--socket", o.address, "Daemon address (path, unix:PATH or tcp:HOST:PORT)")
      ->capture_default_str();
  app.add_option("--clients", o.clients, "Concurrent clients (one connection and thread each)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--seconds", seconds, "How long to run")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--block-bytes", o.block_bytes, "Block size, e.g. 64KiB")
      ->transform(tierkv::bench::ByteSizeFlag())
      ->check(CLI::Range(uint64_t{4096}, uint64_t{64} << 20))
      ->capture_default_str();
  app.add_option("--prompts", o.prompts, "Key space in prompts (must fit the host tier)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed for prompts and payloads")->capture_default_str();
  app.add_flag("--json", json, "One JSON object");
  CLI11_PARSE(app, argc, argv);
  o.duration = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));

  auto r = tierkv::testing::RunMix(o);
  if (!r.ok()) {
    std::fprintf(stderr, "tierkv-load-bench: %s\n", r.status().ToString().c_str());
    return 1;
  }
  const double rate = static_cast<double>(r->ops) / r->seconds;
  if (json) {
    nlohmann::json j = {{"clients", o.clients},
                        {"seconds", r->seconds},
                        {"requests", r->ops},
                        {"requests_per_s", rate},
                        {"p50_us", r->p50_us},
                        {"p99_us", r->p99_us},
                        {"max_us", r->max_us},
                        {"lookups", r->lookups},
                        {"acquires", r->acquires},
                        {"releases", r->releases},
                        {"reserves", r->reserves},
                        {"commits", r->commits},
                        {"aborts", r->aborts},
                        {"errors", r->errors},
                        {"corrupt", r->corrupt},
                        {"committed_prompts", r->committed_prompts},
                        {"lost_prompts", r->lost_prompts}};
    std::cout << j.dump() << std::endl;
  } else {
    std::printf(
        "%u clients, %.1f s: %llu requests, %.0f req/s, p50 %.1f us, p99 %.1f us, "
        "max %.1f us\n",
        o.clients, r->seconds, static_cast<unsigned long long>(r->ops), rate, r->p50_us, r->p99_us,
        r->max_us);
    std::printf(
        "lookup %llu  acquire %llu  release %llu  reserve %llu  commit %llu  abort %llu\n",
        static_cast<unsigned long long>(r->lookups), static_cast<unsigned long long>(r->acquires),
        static_cast<unsigned long long>(r->releases), static_cast<unsigned long long>(r->reserves),
        static_cast<unsigned long long>(r->commits), static_cast<unsigned long long>(r->aborts));
    std::printf("errors %llu  corrupt blocks %llu  committed prompts %llu  lost %llu\n",
                static_cast<unsigned long long>(r->errors),
                static_cast<unsigned long long>(r->corrupt),
                static_cast<unsigned long long>(r->committed_prompts),
                static_cast<unsigned long long>(r->lost_prompts));
    if (!r->first_error.empty()) std::printf("first error: %s\n", r->first_error.c_str());
  }
  return r->errors == 0 && r->corrupt == 0 && r->lost_prompts == 0 ? 0 : 3;
}
