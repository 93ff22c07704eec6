// Writes new tokens' K and V rows into their pages on the GPU: the contract of
// KvCacheWriteRef (kv_cache_write_ref.h), with f32 rows converted to the
// pages' dtype on the way, to the same bytes as the reference (f16 and bf16
// rounded to nearest even, q8_0 quantized as QuantizeRowQ8_0Ref does). Device pointers; queued on
// `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/kernel_args.h"
#include "tierkv/status.h"

namespace tierkv::kernels {

// `k` and `v` are [n_tokens][kv.kv_dim] f32; row t goes to absolute position
// first_pos + t through `block_table`, which must cover first_pos + n_tokens - 1.
Status KvCacheWriteCuda(const float* k, const float* v, int n_tokens, int first_pos,
                        const int32_t* block_table, const PagedKv& kv, cudaStream_t stream);

}  // namespace tierkv::kernels
