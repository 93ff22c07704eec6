// Cached blocks a PrefixCache lends in place (PrefixCache::Borrow): the
// reader copies straight from where the cache keeps them, with no copy into a
// buffer of its own first. The blocks stay where they are, unchanged, until
// the BorrowedBlocks is destroyed or released.
//
// Thread safety: none; a BorrowedBlocks belongs to the thread that borrowed it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tierkv::core {

// Where one lent block's bytes are: host memory this process can read
// (tierkvd's shared pool mapped here, or a buffer the borrow owns), or, when
// the borrower asked for it, the cache's shared device pool (SharedDevicePool)
// at `device_pool_offset`; host_bytes is then empty, and readers that only
// know host memory stop there.
struct BorrowedBlock {
  std::span<const std::byte> host_bytes;
  bool in_device_pool = false;
  uint64_t device_pool_offset = 0;
};

// A device memory pool a cache shares with readers on the same GPU (tierkvd's
// GPU tier): the device's PCI bus id and a CUDA IPC handle to open it with.
struct SharedDevicePool {
  int device = 0;
  std::string pci_bus_id;
  std::string ipc_handle;  // cudaIpcMemHandle_t bytes
  uint64_t bytes = 0;
};

struct BorrowOptions {
  // The borrower reads the cache's SharedDevicePool: blocks held there may be
  // lent from it (and the cache may start copying others up for next time).
  bool device_pool = false;
};

class BorrowedBlocks {
 public:
  // Whatever keeps the blocks in place (a daemon lease); let go when destroyed.
  class Hold {
   public:
    virtual ~Hold() = default;
  };

  BorrowedBlocks() = default;
  BorrowedBlocks(std::vector<BorrowedBlock> blocks, std::unique_ptr<Hold> hold)
      : blocks_(std::move(blocks)), hold_(std::move(hold)) {}
  BorrowedBlocks(BorrowedBlocks&&) noexcept = default;
  BorrowedBlocks& operator=(BorrowedBlocks&&) noexcept = default;
  BorrowedBlocks(const BorrowedBlocks&) = delete;
  BorrowedBlocks& operator=(const BorrowedBlocks&) = delete;
  ~BorrowedBlocks() = default;

  size_t size() const { return blocks_.size(); }
  bool empty() const { return blocks_.empty(); }
  const BorrowedBlock& operator[](size_t i) const { return blocks_[i]; }

  // Ends the borrow now (the blocks' views become invalid). Idempotent.
  void Release() {
    blocks_.clear();
    hold_.reset();
  }

 private:
  std::vector<BorrowedBlock> blocks_;
  std::unique_ptr<Hold> hold_;
};

}  // namespace tierkv::core
