// What a namespace is made of: everything that must match for two blocks to be
// interchangeable (../shared/DESIGN.md, "Vocabulary"). A plain value, shared by
// the client, which opens namespaces with it, and the engine, which derives one
// from its model.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tierkv {

// The KV element types a namespace may name (NamespaceSpec::kv_dtype). The
// daemon refuses any other, so that a typo cannot silently open a new, empty
// namespace. The engine's own names (kernels/kernel_args.h KvDtypeName) are
// among them; fp8_e4m3 and fp8_e5m2 are vLLM's fp8 KV caches.
inline constexpr std::string_view kKnownKvDtypes[] = {"f32",  "f16",      "bf16",
                                                      "q8_0", "fp8_e4m3", "fp8_e5m2"};

inline bool IsKnownKvDtype(std::string_view dtype) {
  for (std::string_view known : kKnownKvDtypes) {
    if (dtype == known) return true;
  }
  return false;
}

// "f32, f16, ...": the known types, for error messages.
inline std::string KnownKvDtypeList() {
  std::string list;
  for (std::string_view known : kKnownKvDtypes) {
    if (!list.empty()) list += ", ";
    list += known;
  }
  return list;
}

// Everything that must match for two blocks to be interchangeable.
struct NamespaceSpec {
  std::string model_fingerprint;  // e.g. a hash of the model file's weights
  std::string tenant = "default";
  std::string adapter_id;         // LoRA id, empty for none
  std::string kv_dtype = "f16";
  std::string kv_layout = "layer-major";
  uint32_t block_tokens = 16;
  uint64_t block_bytes = 0;
};

}  // namespace tierkv
