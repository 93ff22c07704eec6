#include "core/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace tierkv::core {
namespace {

// Serializes into a byte buffer; the header is small next to the tensor data.
class ByteSink {
 public:
  template <typename T>
  void Put(T v) {
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint64_t>(s.size());
    out_.insert(out_.end(), reinterpret_cast<const std::byte*>(s.data()),
                reinterpret_cast<const std::byte*>(s.data()) + s.size());
  }
  void PadTo(uint64_t alignment) {
    out_.resize((out_.size() + alignment - 1) / alignment * alignment, std::byte{0});
  }
  void PutValue(const GgufValue& v);
  const std::vector<std::byte>& bytes() const { return out_; }

 private:
  std::vector<std::byte> out_;
};

void ByteSink::PutValue(const GgufValue& v) {
  auto as_u = [&] {
    return std::holds_alternative<uint64_t>(v.scalar)
               ? std::get<uint64_t>(v.scalar)
               : static_cast<uint64_t>(std::get<int64_t>(v.scalar));
  };
  switch (v.type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
      return Put<uint8_t>(static_cast<uint8_t>(as_u()));
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return Put<uint16_t>(static_cast<uint16_t>(as_u()));
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
      return Put<uint32_t>(static_cast<uint32_t>(as_u()));
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
      return Put<uint64_t>(as_u());
    case GgufValueType::kFloat32:
      return Put<float>(static_cast<float>(std::get<double>(v.scalar)));
    case GgufValueType::kFloat64:
      return Put<double>(std::get<double>(v.scalar));
    case GgufValueType::kBool:
      return Put<uint8_t>(std::get<bool>(v.scalar) ? 1 : 0);
    case GgufValueType::kString:
      return PutString(std::get<std::string>(v.scalar));
    case GgufValueType::kArray:
      Put<uint32_t>(static_cast<uint32_t>(v.element_type));
      Put<uint64_t>(v.array.size());
      for (const GgufValue& e : v.array) PutValue(e);
      return;
  }
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

}  // namespace

void GgufWriter::SetMetadata(const std::string& key, GgufValue value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

Status GgufWriter::AddTensor(const std::string& name, std::vector<int64_t> dims, GgmlType type,
                             std::vector<std::byte> data) {
  if (dims.empty() || dims.size() > static_cast<size_t>(kGgufMaxDims)) {
    return Status::InvalidArgument("tensor " + name + ": 1 to 4 dims");
  }
  uint64_t elements = 1;
  for (int64_t d : dims) elements *= static_cast<uint64_t>(d);
  const int64_t block = GgmlBlockValues(static_cast<uint32_t>(type));
  if (block == 0 || dims[0] % block != 0) {
    return Status::InvalidArgument("tensor " + name + ": rows of " + std::to_string(dims[0]) +
                                   " values cannot be stored as " + GgmlTypeName(type));
  }
  if (GgmlBytes(type, elements) != data.size()) {
    return Status::InvalidArgument("tensor " + name + ": " + std::to_string(data.size()) +
                                   " bytes do not match its shape and type");
  }
  for (const Tensor& t : tensors_) {
    if (t.name == name) return Status::InvalidArgument("duplicate tensor " + name);
  }
  tensors_.push_back({name, std::move(dims), type, std::move(data)});
  return Status::Ok();
}

uint64_t GgufWriter::alignment() const {
  for (const auto& [k, v] : metadata_) {
    if (k == "general.alignment" && std::holds_alternative<uint64_t>(v.scalar)) {
      return std::get<uint64_t>(v.scalar);
    }
  }
  return kGgufDefaultAlignment;
}

Status GgufWriter::Write(const std::string& path) const {
  const uint64_t align = alignment();
  ByteSink header;
  header.Put<uint32_t>(kGgufMagic);
  header.Put<uint32_t>(kGgufVersion);
  header.Put<uint64_t>(tensors_.size());
  header.Put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    header.PutString(key);
    header.Put<uint32_t>(static_cast<uint32_t>(value.type));
    header.PutValue(value);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    header.PutString(t.name);
    header.Put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) header.Put<uint64_t>(static_cast<uint64_t>(d));
    header.Put<uint32_t>(static_cast<uint32_t>(t.type));
    header.Put<uint64_t>(offset);
    offset = (offset + t.data.size() + align - 1) / align * align;
  }
  header.PadTo(align);

  const std::string tmp = path + ".tmp";
  std::unique_ptr<FILE, FileCloser> f(std::fopen(tmp.c_str(), "wb"));
  if (!f) return Status::FromErrno(errno, "open " + tmp);
  auto write = [&](const void* p, size_t n) {
    return n == 0 || std::fwrite(p, 1, n, f.get()) == n;
  };
  bool ok = write(header.bytes().data(), header.bytes().size());
  static const std::byte kZeros[256] = {};
  for (const Tensor& t : tensors_) {
    ok = ok && write(t.data.data(), t.data.size());
    const size_t pad = (align - t.data.size() % align) % align;
    for (size_t left = pad; ok && left > 0;) {
      const size_t n = std::min(left, sizeof(kZeros));
      ok = write(kZeros, n);
      left -= n;
    }
  }
  if (!ok || std::fflush(f.get()) != 0) return Status::FromErrno(errno, "write " + tmp);
  f.reset();
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(errno, "rename " + tmp);
  return Status::Ok();
}

}  // namespace tierkv::core
