// tierkv-nvme-bench: throughput of the NVMe tier's storage engine against the
// limit of the disk it sits on.
//
// Modes:
//   tier          For each block size: write --total-mib of blocks through an
//                 NvmeStore (checksum, staging copy, durable write, index put)
//                 and read them back in random order (read, verify); then the
//                 same bytes written and read with a bare io_uring O_DIRECT
//                 loop on a scratch file in the same directory, same queue
//                 depth and durability: the limit. Printed side by side.
//   rocksdb-blob  The same blocks stored as RocksDB values with BlobDB on
//                 (enable_blob_files), written without WAL then flushed, and
//                 read back in random order by --rocksdb-threads threads.
//   reopen        Stores --reopen-blocks small blocks, closes the store, evicts
//                 the index files from the page cache and times Open().
// Every mode prints a table, and with --json one JSON object per line.
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "tiers/nvme/nvme_store.h"

namespace tierkv::nvme {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr int kPayloadSources = 8;  // distinct payloads, cycled
constexpr uint64_t kSlabBytes = 256 * kMiB;

struct Config {
  std::string dir = ".";
  std::vector<uint64_t> block_kib = {256, 1024, 4096};
  uint64_t total_mib = 1024;
  uint32_t queue_depth = 32;
  std::string durability = "group";
  std::string mode = "tier";
  uint64_t reopen_blocks = 100'000;
  uint64_t reopen_block_bytes = 4096;
  int rocksdb_threads = 8;
  bool staging = false;
  bool warm = false;
  uint32_t window = 0;
  int repeat = 3;
  bool json = false;
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double Gbps(uint64_t bytes, double seconds) { return double(bytes) / seconds / 1e9; }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "tierkv-nvme-bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

WriteDurability ParseDurability(const std::string& s) {
  if (s == "none") return WriteDurability::kNone;
  if (s == "dsync") return WriteDurability::kDsync;
  if (s == "fdatasync") return WriteDurability::kFdatasync;
  return WriteDurability::kGroupSync;
}

std::vector<std::vector<std::byte>> RandomPayloads(size_t bytes) {
  std::mt19937_64 rng(42);
  std::vector<std::vector<std::byte>> out(kPayloadSources, std::vector<std::byte>(bytes));
  for (auto& p : out) {
    for (size_t i = 0; i + 8 <= bytes; i += 8) {
      uint64_t v = rng();
      std::memcpy(p.data() + i, &v, 8);
    }
  }
  return out;
}

// Writes `i` into the first word of every 4 KiB page of `buf`, so no two blocks
// share a page: a host that deduplicates or compresses cannot shortcut the IO.
void Stamp(std::byte* buf, size_t bytes, uint64_t i) {
  for (size_t off = 0; off + sizeof(i) <= bytes; off += kIoAlignment) {
    std::memcpy(buf + off, &i, sizeof(i));
  }
}

std::vector<uint64_t> Shuffled(uint64_t n) {
  std::vector<uint64_t> order(n);
  for (uint64_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
  return order;
}

Key128 BenchKey(uint64_t i) { return Key128{i * 0x9E3779B97F4A7C15ull + 1, i}; }

BlockMeta BenchMeta(uint64_t i) {
  BlockMeta m;
  m.key = BenchKey(i);
  m.parent = BenchKey(i - 1);
  m.namespace_id = Key128{1, 1};
  m.tokens.assign(16, uint32_t(i));
  m.last_access = i;
  return m;
}

// Waits on the store's eventfd, as the daemon's event loop would, then reaps.
void Pump(NvmeStore& store) {
  pollfd p{store.event_fd(), POLLIN, 0};
  ::poll(&p, 1, 100);
  store.ReapCompletions();
}

struct TierResult {
  double write_s = 0, read_s = 0;
};

TierResult RunTier(const Config& cfg, const std::string& dir, uint64_t block, uint64_t n) {
  NvmeStoreOptions o;
  o.capacity_bytes = 2 * n * RoundUpToIo(block) + kSlabBytes;
  o.slab_bytes = kSlabBytes;
  o.max_block_bytes = block;
  o.queue_depth = cfg.queue_depth;
  o.durability = ParseDurability(cfg.durability);
  o.direct_aligned_buffers = !cfg.staging;
  Result<std::unique_ptr<NvmeStore>> opened = NvmeStore::Open(dir, o);
  Check(opened.status(), "open tier");
  NvmeStore& store = **opened;
  const uint64_t window = cfg.window != 0 ? cfg.window : 4 * cfg.queue_depth;
  // Page-aligned payload buffers, like the daemon's shared-memory CPU tier.
  std::unique_ptr<std::byte, decltype(&std::free)> arena(
      static_cast<std::byte*>(std::aligned_alloc(kIoAlignment, window * block)), &std::free);
  const auto sources = RandomPayloads(block);
  std::vector<std::span<std::byte>> bufs;
  for (uint64_t b = 0; b < window; ++b) {
    bufs.emplace_back(arena.get() + b * block, block);
    std::memcpy(bufs[b].data(), sources[b % kPayloadSources].data(), block);
  }
  std::vector<size_t> free_bufs(window);
  for (size_t i = 0; i < window; ++i) free_bufs[i] = i;
  TierResult r;

  // Writes blocks first..first+n-1; returns the seconds it took.
  auto write_all = [&](uint64_t first) {
    uint64_t submitted = 0, done = 0;
    auto t0 = Clock::now();
    while (done < n) {
      while (submitted < n && !free_bufs.empty()) {
        uint64_t i = first + submitted++;
        size_t b = free_bufs.back();
        free_bufs.pop_back();
        Stamp(bufs[b].data(), block, i);
        Check(store.Write(BenchMeta(i), bufs[b],
                          [&, b](Status s) {
                            Check(s, "tier write");
                            free_bufs.push_back(b);
                            ++done;
                          }),
              "tier write");
      }
      Pump(store);
    }
    return Seconds(t0);
  };
  if (cfg.warm) {
    // Steady state: slab files exist and every slot has been written before.
    write_all(n);
    for (uint64_t i = n; i < 2 * n; ++i) Check(store.Remove(BenchKey(i)), "remove");
  }
  r.write_s = write_all(0);

  std::vector<std::span<std::byte>>& dst = bufs;
  std::vector<size_t>& free_dst = free_bufs;
  const std::vector<uint64_t> order = Shuffled(n);
  uint64_t submitted = 0, done = 0;
  auto t0 = Clock::now();
  while (done < n) {
    while (submitted < n && !free_dst.empty()) {
      size_t b = free_dst.back();
      free_dst.pop_back();
      Check(store.Read(BenchKey(order[submitted++]), dst[b],
                       [&, b](Status s) {
                         Check(s, "tier read");
                         free_dst.push_back(b);
                         ++done;
                       }),
            "tier read");
    }
    Pump(store);
  }
  r.read_s = Seconds(t0);
  return r;
}

// A bare io_uring loop: `n` requests of `block` bytes at offsets i * block,
// `depth` in flight, registered buffers, no copies, no checksums.
double RunRaw(int fd, uint64_t block, uint64_t n, uint32_t depth, bool write, bool dsync,
              const std::vector<uint64_t>& order) {
  io_uring ring;
  if (int e = io_uring_queue_init(depth, &ring, 0); e < 0) Die("io_uring_queue_init");
  std::byte* mem = static_cast<std::byte*>(std::aligned_alloc(kIoAlignment, depth * block));
  std::vector<iovec> iov(depth);
  const auto payloads = RandomPayloads(block);
  for (uint32_t i = 0; i < depth; ++i) {
    iov[i] = iovec{mem + i * block, block};
    std::memcpy(mem + i * block, payloads[i % kPayloadSources].data(), block);
  }
  const bool fixed = io_uring_register_buffers(&ring, iov.data(), depth) == 0;
  uint64_t next = 0, done = 0;
  auto submit = [&](uint32_t b) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    uint64_t off = order[next] * block;
    if (write) Stamp(static_cast<std::byte*>(iov[b].iov_base), block, order[next]);
    ++next;
    if (write) {
      if (fixed) {
        io_uring_prep_write_fixed(sqe, fd, iov[b].iov_base, unsigned(block), off, int(b));
      } else {
        io_uring_prep_write(sqe, fd, iov[b].iov_base, unsigned(block), off);
      }
      if (dsync) sqe->rw_flags = RWF_DSYNC;
    } else if (fixed) {
      io_uring_prep_read_fixed(sqe, fd, iov[b].iov_base, unsigned(block), off, int(b));
    } else {
      io_uring_prep_read(sqe, fd, iov[b].iov_base, unsigned(block), off);
    }
    io_uring_sqe_set_data64(sqe, b);
  };
  auto t0 = Clock::now();
  for (uint32_t b = 0; b < depth && next < n; ++b) submit(b);
  io_uring_submit(&ring);
  while (done < n) {
    io_uring_cqe* cqe;
    if (io_uring_wait_cqe(&ring, &cqe) < 0) Die("io_uring_wait_cqe");
    if (cqe->res != int(block)) Die("raw IO failed: " + std::to_string(cqe->res));
    uint32_t b = uint32_t(cqe->user_data);
    io_uring_cqe_seen(&ring, cqe);
    ++done;
    if (next < n) {
      submit(b);
      io_uring_submit(&ring);
    }
  }
  double s = Seconds(t0);
  io_uring_queue_exit(&ring);
  std::free(mem);
  return s;
}

void TierMode(const Config& cfg, const std::string& base) {
  if (!cfg.json) {
    std::printf(
        "nvme tier (durability %s%s) vs raw io_uring O_DIRECT (no sync): %lu MiB per "
        "size, queue depth %u, median of %d%s\n",
        cfg.durability.c_str(), cfg.staging ? ", staging copies" : "", (unsigned long)cfg.total_mib,
        cfg.queue_depth, cfg.repeat, cfg.warm ? ", warm (slots written before)" : "");
    std::printf("%10s %12s %12s %7s %12s %12s %12s %7s\n", "block", "tier write", "raw write",
                "ratio", "raw w+dsync", "tier read", "raw read", "ratio");
  }
  for (uint64_t kib : cfg.block_kib) {
    const uint64_t block = kib * 1024;
    const uint64_t n = std::max<uint64_t>(1, cfg.total_mib * kMiB / block);
    const uint64_t bytes = n * block;
    // Tier and raw runs alternate, and each figure is the median of
    // --repeat runs: the disk here is shared, and its speed drifts.
    std::vector<double> tier_w, tier_r, raw_w, raw_ws, raw_r;
    for (int rep = 0; rep < cfg.repeat; ++rep) {
      const std::string tier_dir = base + "/tier-" + std::to_string(kib);
      TierResult t = RunTier(cfg, tier_dir, block, n);
      fs::remove_all(tier_dir);
      tier_w.push_back(t.write_s);
      tier_r.push_back(t.read_s);

      const std::string raw_path = base + "/raw-scratch.dat";
      int fd = ::open(raw_path.c_str(), O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
      if (fd < 0 || ::posix_fallocate(fd, 0, off_t(bytes)) != 0) Die("raw scratch file");
      std::vector<uint64_t> seq(n);
      for (uint64_t i = 0; i < n; ++i) seq[i] = i;
      if (cfg.warm) RunRaw(fd, block, n, cfg.queue_depth, true, false, seq);
      raw_w.push_back(RunRaw(fd, block, n, cfg.queue_depth, true, false, seq));
      raw_ws.push_back(RunRaw(fd, block, n, cfg.queue_depth, true, true, seq));
      raw_r.push_back(RunRaw(fd, block, n, cfg.queue_depth, false, false, Shuffled(n)));
      ::close(fd);
      ::unlink(raw_path.c_str());
    }

    const double tw = Gbps(bytes, Median(tier_w)), rw = Gbps(bytes, Median(raw_w));
    const double rws = Gbps(bytes, Median(raw_ws));
    const double tr = Gbps(bytes, Median(tier_r)), rr = Gbps(bytes, Median(raw_r));
    if (cfg.json) {
      std::printf(
          "{\"bench\":\"nvme\",\"mode\":\"tier\",\"block_bytes\":%lu,\"total_bytes\":%lu,"
          "\"queue_depth\":%u,\"durability\":\"%s\",\"staging\":%s,\"warm\":%s,\"tier_write_gbps\":"
          "%.3f,"
          "\"raw_write_gbps\":%.3f,\"raw_write_dsync_gbps\":%.3f,\"tier_read_gbps\":%.3f,\"raw_"
          "read_gbps\":%.3f}\n",
          (unsigned long)block, (unsigned long)bytes, cfg.queue_depth, cfg.durability.c_str(),
          cfg.staging ? "true" : "false", cfg.warm ? "true" : "false", tw, rw, rws, tr, rr);
    } else {
      std::printf("%8luKiB %9.3fGB/s %9.3fGB/s %6.2fx %9.3fGB/s %9.3fGB/s %9.3fGB/s %6.2fx\n",
                  (unsigned long)kib, tw, rw, tw / rw, rws, tr, rr, tr / rr);
    }
    std::fflush(stdout);
  }
}

void RocksBlobMode(const Config& cfg, const std::string& base) {
  if (!cfg.json) {
    std::printf(
        "blocks as RocksDB values, BlobDB on (direct reads, WAL off, flush timed): "
        "%lu MiB per size, %d reader threads\n",
        (unsigned long)cfg.total_mib, cfg.rocksdb_threads);
    std::printf("%10s %12s %12s\n", "block", "write", "read");
  }
  for (uint64_t kib : cfg.block_kib) {
    const uint64_t block = kib * 1024;
    const uint64_t n = std::max<uint64_t>(1, cfg.total_mib * kMiB / block);
    const std::string dir = base + "/rocks-" + std::to_string(kib);
    rocksdb::Options o;
    o.create_if_missing = true;
    o.enable_blob_files = true;
    o.min_blob_size = 0;
    o.blob_file_size = kSlabBytes;
    o.write_buffer_size = 64 * kMiB;
    o.use_direct_reads = true;
    o.compression = rocksdb::kNoCompression;
    o.blob_compression_type = rocksdb::kNoCompression;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, dir, &raw).ok()) Die("rocksdb open");
    std::unique_ptr<rocksdb::DB> db(raw);
    const auto payloads = RandomPayloads(block);
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    auto t0 = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
      const Key128 k = BenchKey(i);
      rocksdb::Slice key(reinterpret_cast<const char*>(&k), sizeof(k));
      rocksdb::Slice value(reinterpret_cast<const char*>(payloads[i % kPayloadSources].data()),
                           block);
      if (!db->Put(wo, key, value).ok()) Die("rocksdb put");
    }
    if (!db->Flush(rocksdb::FlushOptions()).ok() || !db->SyncWAL().ok()) Die("rocksdb flush");
    const double write_s = Seconds(t0);

    const std::vector<uint64_t> order = Shuffled(n);
    std::atomic<uint64_t> next{0};
    t0 = Clock::now();
    std::vector<std::thread> readers;
    for (int t = 0; t < cfg.rocksdb_threads; ++t) {
      readers.emplace_back([&] {
        rocksdb::PinnableSlice value;
        for (uint64_t j; (j = next.fetch_add(1)) < n;) {
          const Key128 k = BenchKey(order[j]);
          value.Reset();
          rocksdb::Slice key(reinterpret_cast<const char*>(&k), sizeof(k));
          if (!db->Get(rocksdb::ReadOptions(), db->DefaultColumnFamily(), key, &value).ok() ||
              value.size() != block) {
            Die("rocksdb get");
          }
        }
      });
    }
    for (auto& r : readers) r.join();
    const double read_s = Seconds(t0);
    db.reset();
    fs::remove_all(dir);
    const double w = Gbps(n * block, write_s), r = Gbps(n * block, read_s);
    if (cfg.json) {
      std::printf(
          "{\"bench\":\"nvme\",\"mode\":\"rocksdb-blob\",\"block_bytes\":%lu,"
          "\"total_bytes\":%lu,\"threads\":%d,\"write_gbps\":%.3f,\"read_gbps\":%.3f}\n",
          (unsigned long)block, (unsigned long)(n * block), cfg.rocksdb_threads, w, r);
    } else {
      std::printf("%8luKiB %9.3fGB/s %9.3fGB/s\n", (unsigned long)kib, w, r);
    }
    std::fflush(stdout);
  }
}

// Evicts every file under `dir` from the page cache, so Open reads from disk.
void EvictFromPageCache(const std::string& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

void ReopenMode(const Config& cfg, const std::string& base) {
  const uint64_t n = cfg.reopen_blocks, block = cfg.reopen_block_bytes;
  const std::string dir = base + "/reopen";
  NvmeStoreOptions o;
  o.capacity_bytes = n * RoundUpToIo(block) + kSlabBytes;
  o.slab_bytes = kSlabBytes;
  o.max_block_bytes = block;
  o.queue_depth = cfg.queue_depth;
  o.durability = ParseDurability(cfg.durability);
  auto t0 = Clock::now();
  {
    Result<std::unique_ptr<NvmeStore>> opened = NvmeStore::Open(dir, o);
    Check(opened.status(), "open tier");
    NvmeStore& store = **opened;
    const auto payloads = RandomPayloads(block);
    uint64_t submitted = 0, done = 0;
    while (done < n) {
      while (submitted < n && submitted - done < 2 * cfg.queue_depth) {
        uint64_t i = submitted++;
        Check(store.Write(BenchMeta(i), payloads[i % kPayloadSources],
                          [&](Status s) {
                            Check(s, "write");
                            ++done;
                          }),
              "write");
      }
      Pump(store);
    }
  }
  const double fill_s = Seconds(t0);
  EvictFromPageCache(dir);
  uint64_t visited = 0;
  LoadCallbacks load;
  load.visit = [&](const BlockRecord&) { ++visited; };
  load.progress = [&](uint64_t scanned) {
    if (!cfg.json) std::printf("  loading nvme index: %lu entries\n", (unsigned long)scanned);
  };
  t0 = Clock::now();
  Result<std::unique_ptr<NvmeStore>> reopened = NvmeStore::Open(dir, o, load);
  const double open_s = Seconds(t0);
  Check(reopened.status(), "reopen tier");
  if (visited != n) Die("reopen found " + std::to_string(visited) + " blocks");
  reopened = Status::Unavailable("closed");
  fs::remove_all(dir);
  if (cfg.json) {
    std::printf(
        "{\"bench\":\"nvme\",\"mode\":\"reopen\",\"blocks\":%lu,\"block_bytes\":%lu,"
        "\"fill_s\":%.3f,\"reopen_s\":%.3f}\n",
        (unsigned long)n, (unsigned long)block, fill_s, open_s);
  } else {
    std::printf(
        "stored %lu blocks of %lu bytes in %.2f s; reopen (index evicted from the page "
        "cache) took %.3f s\n",
        (unsigned long)n, (unsigned long)block, fill_s, open_s);
  }
}

}  // namespace
}  // namespace tierkv::nvme

int main(int argc, char** argv) {
  using namespace tierkv::nvme;
  Config cfg;
  CLI::App app{"tierkv-nvme-bench: NVMe tier throughput against raw io_uring O_DIRECT"};
  app.add_option("--dir", cfg.dir,
                 "directory on the disk to measure (a scratch subdirectory is "
                 "made and removed)")
      ->capture_default_str();
  app.add_option("--mode", cfg.mode, "tier | rocksdb-blob | reopen")
      ->check(CLI::IsMember({"tier", "rocksdb-blob", "reopen"}))
      ->capture_default_str();
  app.add_option("--block-kib", cfg.block_kib, "block sizes in KiB")->capture_default_str();
  app.add_option("--total-mib", cfg.total_mib, "bytes moved per block size, in MiB")
      ->capture_default_str();
  app.add_option("--queue-depth", cfg.queue_depth, "payload requests in the kernel at once")
      ->capture_default_str();
  app.add_option("--window", cfg.window,
                 "tier requests outstanding at once (default 4 x queue depth); writes awaiting "
                 "their group fdatasync count")
      ->capture_default_str();
  app.add_option("--durability", cfg.durability,
                 "group (one fdatasync per file per batch) | dsync (RWF_DSYNC per write) | "
                 "fdatasync (per write) | none")
      ->check(CLI::IsMember({"group", "dsync", "fdatasync", "none"}))
      ->capture_default_str();
  app.add_option("--reopen-blocks", cfg.reopen_blocks, "blocks stored before the timed reopen")
      ->capture_default_str();
  app.add_option("--reopen-block-bytes", cfg.reopen_block_bytes, "size of those blocks")
      ->capture_default_str();
  app.add_option("--rocksdb-threads", cfg.rocksdb_threads, "reader threads in rocksdb-blob mode")
      ->capture_default_str();
  app.add_option("--repeat", cfg.repeat, "alternating tier/raw runs per size; medians reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--warm", cfg.warm,
               "time tier writes into slots written once before (slab files exist), as in a "
               "tier that has been running; the raw file is pre-written likewise");
  app.add_flag("--staging", cfg.staging,
               "copy every payload through the registered staging buffers, even aligned ones");
  app.add_flag("--json", cfg.json, "one JSON object per line instead of a table");
  CLI11_PARSE(app, argc, argv);

  std::string templ = cfg.dir + "/tierkv-nvme-bench-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) Die("cannot create a scratch directory in " + cfg.dir);
  if (cfg.mode == "tier") TierMode(cfg, templ);
  if (cfg.mode == "rocksdb-blob") RocksBlobMode(cfg, templ);
  if (cfg.mode == "reopen") ReopenMode(cfg, templ);
  std::filesystem::remove_all(templ);
  return 0;
}
