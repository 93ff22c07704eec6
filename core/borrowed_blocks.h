// Cached blocks a PrefixCache lends in place (PrefixCache::Borrow): the
// reader copies straight from where the cache keeps them, with no copy into a
// buffer of its own first. The blocks stay where they are, unchanged, until
// the BorrowedBlocks is destroyed or released.
//
// Thread safety: none; a BorrowedBlocks belongs to the thread that borrowed it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace tierkv::core {

// Where one lent block's bytes are. Today always host memory this process can
// read: tierkvd's shared pool mapped here, or a buffer the borrow owns. This
// is the place for other locations (the daemon's CUDA-IPC device pool: a tier
// and an offset in that pool); a block whose host_bytes is empty is then not
// readable from the host, and readers that only know host memory stop there.
struct BorrowedBlock {
  std::span<const std::byte> host_bytes;
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
