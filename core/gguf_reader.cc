#include "core/gguf_reader.h"

#include <cstring>
#include <limits>

namespace tierkv::core {
namespace {

// Refuses absurd headers before allocating for them.
constexpr uint64_t kMaxStringBytes = 1ull << 30;
constexpr int kMaxArrayDepth = 1;

// Bounds-checked little-endian reads from the mapped header.
class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  template <typename T>
  Status Read(T* out, std::string_view what) {
    if (remaining() < sizeof(T)) return Truncated(what);
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }

  Status ReadString(std::string* out, std::string_view what) {
    uint64_t len = 0;
    TIERKV_RETURN_IF_ERROR(Read(&len, what));
    if (len > kMaxStringBytes) {
      return Status::Corruption("string of " + std::to_string(len) + " bytes for " +
                                std::string(what) + " at offset " + std::to_string(pos_));
    }
    if (remaining() < len) return Truncated(what);
    out->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return Status::Ok();
  }

  Status Truncated(std::string_view what) const {
    return Status::Corruption("file truncated: " + std::to_string(bytes_.size()) +
                              " bytes end inside " + std::string(what) + " at offset " +
                              std::to_string(pos_));
  }

 private:
  std::span<const std::byte> bytes_;
  size_t pos_ = 0;
};

template <typename Wire, typename Stored>
Status ReadScalar(Cursor& c, GgufValue* out, std::string_view what) {
  Wire v{};
  TIERKV_RETURN_IF_ERROR(c.Read(&v, what));
  out->scalar = static_cast<Stored>(v);
  return Status::Ok();
}

Status ReadValue(Cursor& c, GgufValueType type, int depth, GgufValue* out, std::string_view what);

Status ReadArray(Cursor& c, int depth, GgufValue* out, std::string_view what) {
  if (depth >= kMaxArrayDepth) {
    return Status::Unsupported("nested arrays are not supported (" + std::string(what) + ")");
  }
  uint32_t elem = 0;
  uint64_t count = 0;
  TIERKV_RETURN_IF_ERROR(c.Read(&elem, what));
  TIERKV_RETURN_IF_ERROR(c.Read(&count, what));
  // Every element takes at least one byte: a count beyond the file is corrupt.
  if (count > c.remaining()) return c.Truncated(what);
  out->element_type = static_cast<GgufValueType>(elem);
  out->array.resize(count);
  for (GgufValue& v : out->array) {
    TIERKV_RETURN_IF_ERROR(ReadValue(c, out->element_type, depth + 1, &v, what));
  }
  return Status::Ok();
}

Status ReadValue(Cursor& c, GgufValueType type, int depth, GgufValue* out, std::string_view what) {
  out->type = type;
  switch (type) {
    case GgufValueType::kUint8:
      return ReadScalar<uint8_t, uint64_t>(c, out, what);
    case GgufValueType::kInt8:
      return ReadScalar<int8_t, int64_t>(c, out, what);
    case GgufValueType::kUint16:
      return ReadScalar<uint16_t, uint64_t>(c, out, what);
    case GgufValueType::kInt16:
      return ReadScalar<int16_t, int64_t>(c, out, what);
    case GgufValueType::kUint32:
      return ReadScalar<uint32_t, uint64_t>(c, out, what);
    case GgufValueType::kInt32:
      return ReadScalar<int32_t, int64_t>(c, out, what);
    case GgufValueType::kUint64:
      return ReadScalar<uint64_t, uint64_t>(c, out, what);
    case GgufValueType::kInt64:
      return ReadScalar<int64_t, int64_t>(c, out, what);
    case GgufValueType::kFloat32:
      return ReadScalar<float, double>(c, out, what);
    case GgufValueType::kFloat64:
      return ReadScalar<double, double>(c, out, what);
    case GgufValueType::kBool: {
      uint8_t b = 0;
      TIERKV_RETURN_IF_ERROR(c.Read(&b, what));
      if (b > 1)
        return Status::Corruption("bool value " + std::to_string(b) + " in " + std::string(what));
      out->scalar = b == 1;
      return Status::Ok();
    }
    case GgufValueType::kString: {
      std::string s;
      TIERKV_RETURN_IF_ERROR(c.ReadString(&s, what));
      out->scalar = std::move(s);
      return Status::Ok();
    }
    case GgufValueType::kArray:
      return ReadArray(c, depth, out, what);
  }
  return Status::Corruption("unknown metadata value type " +
                            std::to_string(static_cast<uint32_t>(type)) + " in " +
                            std::string(what));
}

uint64_t AlignUp(uint64_t x, uint64_t alignment) {
  return (x + alignment - 1) / alignment * alignment;
}

}  // namespace

// Fills a GgufFile from its mapping; every failure is a Status naming the problem.
class GgufParser {
 public:
  static Status Parse(GgufFile* f) {
    const std::span<const std::byte> bytes = f->file_.bytes();
    Cursor c(bytes);
    uint32_t magic = 0, version = 0;
    uint64_t n_tensors = 0, n_kv = 0;
    TIERKV_RETURN_IF_ERROR(c.Read(&magic, "the magic"));
    if (magic != kGgufMagic) {
      char text[5] = {};
      std::memcpy(text, &magic, 4);
      for (char& ch : text) {
        if (ch != 0 && (ch < 32 || ch > 126)) ch = '?';
      }
      return Status::Corruption(std::string("not a GGUF file: magic \"") + text +
                                "\", expected \"GGUF\"");
    }
    TIERKV_RETURN_IF_ERROR(c.Read(&version, "the version"));
    if (version != kGgufVersion) {
      return Status::Unsupported("GGUF version " + std::to_string(version) +
                                 " is not supported (only version 3)");
    }
    TIERKV_RETURN_IF_ERROR(c.Read(&n_tensors, "the tensor count"));
    TIERKV_RETURN_IF_ERROR(c.Read(&n_kv, "the metadata count"));
    if (n_kv > c.remaining() || n_tensors > c.remaining()) return c.Truncated("the header");

    f->metadata_.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key;
      uint32_t type = 0;
      TIERKV_RETURN_IF_ERROR(c.ReadString(&key, "a metadata key"));
      TIERKV_RETURN_IF_ERROR(c.Read(&type, "metadata " + key));
      GgufValue value;
      TIERKV_RETURN_IF_ERROR(
          ReadValue(c, static_cast<GgufValueType>(type), 0, &value, "metadata " + key));
      f->metadata_.emplace_back(std::move(key), std::move(value));
    }
    if (f->Find("general.alignment") != nullptr) {
      auto alignment = f->GetUint("general.alignment");
      if (!alignment.ok()) return alignment.status();
      if (*alignment == 0 || (*alignment & (*alignment - 1)) != 0) {
        return Status::Corruption("general.alignment " + std::to_string(*alignment) +
                                  " is not a power of two");
      }
      f->alignment_ = *alignment;
    }

    f->tensors_.resize(n_tensors);
    for (GgufTensorInfo& t : f->tensors_) TIERKV_RETURN_IF_ERROR(ReadTensorInfo(c, &t));

    const uint64_t data_start = AlignUp(c.offset(), f->alignment_);
    for (GgufTensorInfo& t : f->tensors_) {
      if (t.offset % f->alignment_ != 0) {
        return Status::Corruption("tensor " + t.name + " offset " + std::to_string(t.offset) +
                                  " is not aligned to " + std::to_string(f->alignment_));
      }
      const uint64_t elements = static_cast<uint64_t>(t.elements());
      const int64_t block = GgmlBlockValues(static_cast<uint32_t>(t.type));
      if (t.dims[0] % block != 0) {
        return Status::Corruption("tensor " + t.name + " has rows of " + std::to_string(t.dims[0]) +
                                  " values, not a multiple of the " + GgmlTypeName(t.type) +
                                  " block of " + std::to_string(block));
      }
      const uint64_t nbytes = GgmlBytes(t.type, elements);
      // Checked piecewise so that huge header values cannot overflow the sum.
      if (elements > bytes.size() || t.offset > bytes.size() ||
          data_start + t.offset + nbytes > bytes.size()) {
        return Status::Corruption("file truncated: tensor " + t.name + " needs bytes up to " +
                                  std::to_string(data_start + t.offset + nbytes) +
                                  " but the file has " + std::to_string(bytes.size()));
      }
      t.data = bytes.subspan(data_start + t.offset, nbytes);
      if (!f->tensor_index_.emplace(t.name, &t - f->tensors_.data()).second) {
        return Status::Corruption("duplicate tensor " + t.name);
      }
    }
    return Status::Ok();
  }

 private:
  static Status ReadTensorInfo(Cursor& c, GgufTensorInfo* t) {
    TIERKV_RETURN_IF_ERROR(c.ReadString(&t->name, "a tensor name"));
    const std::string what = "tensor info " + t->name;
    uint32_t n_dims = 0;
    TIERKV_RETURN_IF_ERROR(c.Read(&n_dims, what));
    if (n_dims == 0 || n_dims > kGgufMaxDims) {
      return Status::Corruption("tensor " + t->name + " has " + std::to_string(n_dims) + " dims");
    }
    t->dims.resize(n_dims);
    int64_t elements = 1;
    for (int64_t& d : t->dims) {
      uint64_t dim = 0;
      TIERKV_RETURN_IF_ERROR(c.Read(&dim, what));
      if (dim == 0 || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / elements)) {
        return Status::Corruption("tensor " + t->name + " has an impossible dimension " +
                                  std::to_string(dim));
      }
      d = static_cast<int64_t>(dim);
      elements *= d;
    }
    uint32_t type = 0;
    TIERKV_RETURN_IF_ERROR(c.Read(&type, what));
    if (GgmlBlockBytes(type) == 0) {
      return Status::Unsupported("tensor " + t->name + " has ggml type " + std::to_string(type) +
                                 " (" + GgmlTypeName(type) +
                                 "); supported: f32, f16, bf16, q8_0, q4_0, q4_K, q6_K");
    }
    t->type = static_cast<GgmlType>(type);
    return c.Read(&t->offset, what);
  }
};

int64_t GgufTensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string ShapeString(std::span<const int64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  auto mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  f->file_ = std::move(mapped).value();
  Status s = GgufParser::Parse(f.get());
  if (!s.ok()) return Status(s.code(), path + ": " + std::string(s.message()));
  return f;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  for (const auto& [k, v] : metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Status::NotFound(path_ + ": missing metadata " + std::string(key));
  if (const auto* u = std::get_if<uint64_t>(&v->scalar)) return *u;
  if (const auto* i = std::get_if<int64_t>(&v->scalar); i != nullptr && *i >= 0) {
    return static_cast<uint64_t>(*i);
  }
  return Status::InvalidArgument(path_ + ": metadata " + std::string(key) +
                                 " is not a non-negative integer");
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Status::NotFound(path_ + ": missing metadata " + std::string(key));
  if (const auto* d = std::get_if<double>(&v->scalar)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&v->scalar)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&v->scalar)) return static_cast<double>(*i);
  return Status::InvalidArgument(path_ + ": metadata " + std::string(key) + " is not a number");
}

Result<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Status::NotFound(path_ + ": missing metadata " + std::string(key));
  if (const auto* s = std::get_if<std::string>(&v->scalar);
      s != nullptr && v->type == GgufValueType::kString) {
    return *s;
  }
  return Status::InvalidArgument(path_ + ": metadata " + std::string(key) + " is not a string");
}

Result<const GgufTensorInfo*> GgufFile::RequireTensor(std::string_view name,
                                                      std::span<const int64_t> dims) const {
  const GgufTensorInfo* t = FindTensor(name);
  if (t == nullptr) return Status::NotFound(path_ + ": missing tensor " + std::string(name));
  if (!std::equal(t->dims.begin(), t->dims.end(), dims.begin(), dims.end())) {
    return Status::InvalidArgument(path_ + ": tensor " + std::string(name) + " has shape " +
                                   ShapeString(t->dims) + ", expected " + ShapeString(dims));
  }
  return t;
}

}  // namespace tierkv::core
