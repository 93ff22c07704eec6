// How one layer's keys and values sit in a paged KV pool.
//
// The pool is an array of pages. Within a page, K (and, separately, V) for the
// page's block_tokens tokens are rows of kv_dim = n_head_kv * head_dim floats,
// kv_dim apart. Token at absolute position p of a sequence lives in page
// block_table[p / block_tokens], row p % block_tokens. `k` and `v` point at row 0
// of page 0 for this layer; page i starts page_stride floats later. This covers
// tierkv's layer-interleaved pages ([layer][K|V][token][kv_dim], one page = one
// daemon block payload) as well as one pool per layer.
#pragma once

#include <cstdint>

namespace tierkv::kernels {

struct PagedKvLayer {
  float* k = nullptr;
  float* v = nullptr;
  int64_t page_stride = 0;  // floats from one page to the next
  int block_tokens = 0;
  int kv_dim = 0;  // n_head_kv * head_dim, also the row stride within a page
};

}  // namespace tierkv::kernels
