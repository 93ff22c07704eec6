// Whole-page KV block copies on the GPU: the same contract as KvBlockGatherRef
// and KvBlockScatterRef (kv_block_copy_ref.h), one kernel launch per block set.
//
// `pool` is the engine's device page pool. `staging` is any buffer the device
// can address: device memory, or pinned host memory (cudaMallocHost, or the
// daemon's shared pool after cudaHostRegister) through its device pointer, in
// which case the kernel reads or writes across PCIe directly with no
// intermediate copy. `pages` (n_blocks page indices) must be device-accessible
// too. The copies are queued on `stream`; the buffers must stay valid until it
// reaches them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "tierkv/status.h"

namespace tierkv::kernels {

// staging[i * page_bytes, +page_bytes) = pool page pages[i], for i < n_blocks.
Status KvBlockGatherCuda(const std::byte* pool, size_t page_bytes, const int32_t* pages,
                         int n_blocks, std::byte* staging, cudaStream_t stream);

// pool page pages[i] = staging[i * page_bytes, +page_bytes), for i < n_blocks.
Status KvBlockScatterCuda(const std::byte* staging, size_t page_bytes, const int32_t* pages,
                          int n_blocks, std::byte* pool, cudaStream_t stream);

}  // namespace tierkv::kernels
