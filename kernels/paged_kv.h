// How one layer's keys and values sit in a paged KV pool, on the host or on
// the device.
//
// The pool is an array of pages. Within a page, K (and, separately, V) for the
// page's block_tokens tokens are rows of kv_dim = n_head_kv * head_dim values
// stored as `dtype` (kernels/kv_dtype.h), KvRowUnits(dtype, kv_dim) storage
// units apart. Token at absolute position p of a sequence lives in page
// block_table[p / block_tokens], row p % block_tokens. `k` and `v` point at
// row 0 of page 0 for this layer; page i starts page_stride storage units
// later. This covers tierkv's layer-interleaved pages ([layer][K|V][token]
// [kv_dim], one page = one daemon block payload) as well as one pool per layer.
#pragma once

#include <cstdint>

#include "kernels/kv_dtype.h"

#if defined(__CUDACC__)
#define TIERKV_HOST_DEVICE __host__ __device__
#else
#define TIERKV_HOST_DEVICE
#endif

namespace tierkv::kernels {

struct PagedKv {
  void* k = nullptr;
  void* v = nullptr;
  int64_t page_stride = 0;  // storage units from one page to the next
  int block_tokens = 0;
  int kv_dim = 0;  // n_head_kv * head_dim
  KvDtype dtype = KvDtype::kF32;

  int64_t row_units() const { return KvRowUnits(dtype, kv_dim); }
};

// Storage-unit offset of the K (or V) row of absolute position `pos`, from
// row 0 of page 0, for rows `row_units` apart. The attention and cache-write
// kernels, on the host and the device, address rows this way.
TIERKV_HOST_DEVICE inline int64_t PagedRowOffset(const int32_t* block_table, int64_t page_stride,
                                                 int block_tokens, int64_t row_units, int pos) {
  return static_cast<int64_t>(block_table[pos / block_tokens]) * page_stride +
         static_cast<int64_t>(pos % block_tokens) * row_units;
}

}  // namespace tierkv::kernels
