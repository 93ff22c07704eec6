// Reads GGUF v3 files (see gguf_format.h) through a read-only memory mapping.
//
// Open() validates the whole header up front: magic, version, every metadata
// value, every tensor info, and that every tensor's bytes lie inside the file.
// Afterwards tensor data are plain views into the mapping, valid for the life
// of the GgufFile. Errors name the file and what is wrong with it: truncation
// and malformed headers are Corruption, a wrong version or tensor type is
// Unsupported, a missing tensor NotFound, a wrong shape InvalidArgument.
//
// Thread safety: immutable after Open(); safe to read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/gguf_format.h"
#include "core/mapped_file.h"
#include "tierkv/status.h"

namespace tierkv::core {

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // fastest-varying first: dims[0] is the row length
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;              // from the start of the data section
  std::span<const std::byte> data;  // the tensor's bytes in the mapping

  int64_t elements() const;
};

std::string ShapeString(std::span<const int64_t> dims);

class GgufFile {
 public:
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  uint64_t alignment() const { return alignment_; }
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  // The whole file as mapped (for fingerprinting).
  std::span<const std::byte> bytes() const { return file_.bytes(); }

  // Null when absent.
  const GgufValue* Find(std::string_view key) const;
  const GgufTensorInfo* FindTensor(std::string_view name) const;

  // Typed metadata access: NotFound when absent, InvalidArgument on a type
  // that cannot represent the request (a string asked for as an integer).
  Result<uint64_t> GetUint(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;
  Result<std::string> GetString(std::string_view key) const;

  // The tensor `name`, checked to have exactly `dims` (fastest-varying first).
  Result<const GgufTensorInfo*> RequireTensor(std::string_view name,
                                              std::span<const int64_t> dims) const;

 private:
  friend class GgufParser;
  GgufFile() = default;

  std::string path_;
  MappedFile file_;
  uint64_t alignment_ = kGgufDefaultAlignment;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace tierkv::core
