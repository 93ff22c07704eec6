// Inputs and straightforward loops for the kernel harness's KV ops (paged
// attention, KV cache write, block copies), shared by the CPU cases
// (kv_cases.cc: each reference against its loop) and the GPU cases (the CUDA
// tests: each kernel against its reference), so both sides read the same
// bytes. See kernel_cases.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/kv_dtype.h"
#include "kernels/paged_attention_ref.h"
#include "kernels/paged_kv.h"

namespace tierkv::kernels::testing {

// One layer of KV pages as the engine lays them out (in each page K rows then
// V rows, so page_stride is two pages' rows) in `dtype`, handed out in a
// shuffled order so that block tables are not the identity.
class KvPool {
 public:
  enum class Fill {
    kNan,     // every value NaN: a kernel reading a row it must not turns its output NaN
    kRandom,  // random bytes: a write that lands wrong shows in a byte comparison
  };
  KvPool(int n_pages, int block_tokens, int kv_dim, KvDtype dtype, Fill fill, uint64_t seed);

  std::vector<int32_t> TakePages(int n);
  // This pool's layout over `base`: these bytes, or a device copy of them.
  PagedKv Layer(void* base) const;
  PagedKv Layer() { return Layer(bytes.data()); }
  // Value i of the K (or V) row of position `pos`, read by a plain loop
  // (scalar conversions, offsets counted in bytes), for the loops below.
  float LoopValue(bool v, const int32_t* table, int pos, int i) const;

  int block_tokens;
  int kv_dim;
  KvDtype dtype;
  size_t row_bytes;
  size_t page_bytes;  // both K and V rows
  std::vector<std::byte> bytes;

 private:
  std::vector<int32_t> free_pages_;
};

int BlocksFor(int tokens, int block_tokens);
AttentionShape MakeAttentionShape(int n_head, int n_head_kv, int head_dim);

// Prefill of `n_new` tokens after `n_past` cached ones; K and V of all of them
// are in the pool (written by KvCacheWriteRef).
struct PrefillSpec {
  int n_head, n_head_kv, head_dim, block_tokens, n_past, n_new;
};
struct PrefillInputs {
  PrefillSpec spec;
  AttentionShape shape;
  KvPool pool;
  std::vector<int32_t> table;
  std::vector<float> q;
};
PrefillInputs MakePrefillInputs(const PrefillSpec& spec, KvDtype dtype, uint64_t seed);
std::vector<float> PrefillByRef(PrefillInputs& in);
// Attention in double precision, one query row and head at a time.
std::vector<float> PrefillByLoop(const PrefillInputs& in);

// Decode of one token for each sequence; sequence s attends to its first
// context_lens[s] positions. Unused table entries hold -1.
struct DecodeSpec {
  int n_head, n_head_kv, head_dim, block_tokens;
  std::vector<int> context_lens;
};
struct DecodeInputs {
  DecodeSpec spec;
  AttentionShape shape;
  KvPool pool;
  int max_blocks;
  std::vector<int32_t> tables;
  std::vector<float> q;
};
DecodeInputs MakeDecodeInputs(const DecodeSpec& spec, KvDtype dtype, uint64_t seed);
std::vector<float> DecodeByRef(DecodeInputs& in);
std::vector<float> DecodeByLoop(const DecodeInputs& in);

// New rows for positions first_pos .. first_pos + n_tokens - 1 of a sequence
// whose pages lie in a pool of random bytes.
struct KvWriteSpec {
  int kv_dim, block_tokens, first_pos, n_tokens;
};
struct KvWriteInputs {
  KvWriteSpec spec;
  KvPool pool;
  std::vector<int32_t> table;
  std::vector<float> k, v;
};
KvWriteInputs MakeKvWriteInputs(const KvWriteSpec& spec, KvDtype dtype, uint64_t seed);
// The pool's bytes after the write: by KvCacheWriteRef, and by a loop that
// converts value by value (q8_0 quantized as ggml's quantize_row_q8_0).
std::vector<std::byte> KvWriteByRef(KvWriteInputs in);
std::vector<std::byte> KvWriteByLoop(KvWriteInputs in);

// Whole pages between a pool and a staging buffer, `n_blocks` of `page_bytes`
// (odd sizes included) through shuffled pages.
struct BlockCopySpec {
  size_t page_bytes;
  int n_blocks;
};
struct BlockCopyInputs {
  BlockCopySpec spec;
  std::vector<std::byte> pool;
  std::vector<int32_t> pages;
  std::vector<std::byte> staging;  // what a scatter writes
};
BlockCopyInputs MakeBlockCopyInputs(const BlockCopySpec& spec, uint64_t seed);
// Gather: the staging buffer; scatter: the whole pool after it.
std::vector<std::byte> GatherByLoop(const BlockCopyInputs& in);
std::vector<std::byte> ScatterByLoop(const BlockCopyInputs& in);

// Bytes compared through the harness: one float per byte, so equality is
// byte equality (bound 0).
std::vector<float> BytesAsFloats(std::span<const std::byte> bytes);

}  // namespace tierkv::kernels::testing
