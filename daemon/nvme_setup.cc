#include "daemon/nvme_setup.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace tierkv {

Result<std::unique_ptr<nvme::NvmeStore>> OpenNvmeTier(const DaemonConfig& config,
                                                       uint64_t max_block_bytes,
                                                       BlockStore* store) {
  if (config.nvme_bytes == 0) {
    spdlog::info("nvme tier: off (nvme_bytes = 0)");
    return std::unique_ptr<nvme::NvmeStore>();
  }
  nvme::NvmeStoreOptions options;
  options.capacity_bytes = config.nvme_bytes;
  options.max_block_bytes = std::min(max_block_bytes, config.nvme_max_block_bytes);
  options.slab_bytes = std::min<uint64_t>(options.slab_bytes, config.nvme_bytes);
  options.sync_index = config.nvme_sync_index;
  options.disk_full_retry = std::chrono::milliseconds(config.nvme_disk_full_retry_ms);
  std::vector<nvme::BlockRecord> records;
  nvme::LoadCallbacks load;
  load.visit = [&records](const nvme::BlockRecord& r) { records.push_back(r); };
  load.progress = [](uint64_t scanned) {
    spdlog::info("nvme tier: {} index entries scanned", scanned);
  };
  const auto t0 = std::chrono::steady_clock::now();
  const std::string dir = config.data_dir + "/nvme";
  auto opened = nvme::NvmeStore::Open(dir, options, load);
  if (!opened.ok() && opened.status().IsCorruption()) {
    // A damaged index does not stop the daemon: keep it aside, repair what
    // RocksDB can, and load again (the payloads still verify on every read).
    spdlog::error("nvme tier: the index is damaged: {}", opened.status().ToString());
    records.clear();
    std::string kept_aside;
    const Status repaired = nvme::NvmeStore::RepairIndex(dir, options, &kept_aside);
    if (!repaired.ok() && !repaired.IsCorruption()) return repaired;
    if (repaired.ok()) {
      spdlog::warn(
          "nvme tier: index repaired with RocksDB's RepairDB; the damaged copy is kept "
          "in {}",
          kept_aside);
    } else {
      spdlog::error("nvme tier: {}; the damaged copy is kept in {}", repaired.ToString(),
                    kept_aside);
    }
    opened = nvme::NvmeStore::Open(dir, options, load);
    if (opened.ok()) {
      spdlog::warn("nvme tier: {} blocks recovered from the damaged index",
                   (*opened)->Stats().loaded_blocks);
    }
  }
  if (!opened.ok()) return opened.status();
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.last_access < b.last_access; });
  const nvme::NvmeStats stats = (*opened)->Stats();
  spdlog::info("nvme tier: {} MiB cap in {}, {} blocks restored, {} damaged entries dropped, "
               "in {:.2f} s",
               config.nvme_bytes >> 20, dir, stats.loaded_blocks, stats.dropped_at_load,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  store->AttachNvme(opened->get(), records);
  return std::move(opened).value();
}

}  // namespace tierkv
