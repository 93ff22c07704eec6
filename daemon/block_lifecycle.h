// What the store's parts (HostPlacement, NvmeMover, GpuMirror) ask of the
// store that owns them when a block's residency changes under them: the
// operations that span every tier. BlockStore implements it.
#pragma once

#include "daemon/block_entry.h"

namespace tierkv {

class BlockLifecycle {
 public:
  // Puts a block in the LRU lists its residency and pins call for (as the
  // most recently used there); a block not in any list is left out.
  virtual void Relink(BlockEntry* e) = 0;
  // Takes a block out of every LRU list.
  virtual void Unlink(BlockEntry* e) = 0;
  // Forgets a ready, unpinned block on every tier and erases its entry.
  virtual void Drop(BlockEntry* e) = 0;

 protected:
  ~BlockLifecycle() = default;
};

}  // namespace tierkv
