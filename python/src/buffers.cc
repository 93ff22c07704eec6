#include "python/src/buffers.h"

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "python/src/status_error.h"

namespace tierkv::python {
namespace {

constexpr uint64_t kMaxTokenId = std::numeric_limits<TokenId>::max();

std::string TypeName(py::handle object) { return Py_TYPE(object.ptr())->tp_name; }

// The pending Python error's message, cleared.
std::string TakePythonError() {
  py::error_already_set error;
  return error.what();
}

// torch.Tensor has no buffer protocol; it is known by its methods, so torch
// need not be imported here.
bool IsTorchTensor(py::handle object) {
  return py::hasattr(object, "data_ptr") && py::hasattr(object, "element_size") &&
         py::hasattr(object, "is_contiguous") && py::hasattr(object, "numel");
}

template <typename T>
void AppendTokens(const void* data, size_t count, std::vector<TokenId>* out) {
  const T* items = static_cast<const T*>(data);
  for (size_t i = 0; i < count; ++i) {
    const T v = items[i];
    if constexpr (std::is_signed_v<T>) {
      if (v < 0) {
        ThrowInvalidArgument("token id " + std::to_string(i) + " is " + std::to_string(v) +
                             ", below 0");
      }
    }
    if (static_cast<uint64_t>(v) > kMaxTokenId) {
      ThrowInvalidArgument("token id " + std::to_string(i) + " is " + std::to_string(v) +
                           ", above 2^32 - 1");
    }
    out->push_back(static_cast<TokenId>(v));
  }
}

// Token ids from an integer buffer of any width and signedness.
std::vector<TokenId> TokensFromBuffer(const Py_buffer& view) {
  std::string format = view.format ? view.format : "B";
  if (!format.empty() && (format[0] == '@' || format[0] == '=' || format[0] == '<')) {
    format.erase(0, 1);
  }
  const size_t count = static_cast<size_t>(view.len / view.itemsize);
  std::vector<TokenId> tokens;
  tokens.reserve(count);
  if (format.size() == 1) {
    switch (format[0]) {
      case 'b': AppendTokens<int8_t>(view.buf, count, &tokens); return tokens;
      case 'B': AppendTokens<uint8_t>(view.buf, count, &tokens); return tokens;
      case 'h': AppendTokens<int16_t>(view.buf, count, &tokens); return tokens;
      case 'H': AppendTokens<uint16_t>(view.buf, count, &tokens); return tokens;
      case 'i': AppendTokens<int32_t>(view.buf, count, &tokens); return tokens;
      case 'I': AppendTokens<uint32_t>(view.buf, count, &tokens); return tokens;
      case 'l':
      case 'q':
        if (view.itemsize == 8) {
          AppendTokens<int64_t>(view.buf, count, &tokens);
          return tokens;
        }
        AppendTokens<int32_t>(view.buf, count, &tokens);
        return tokens;
      case 'L':
      case 'Q':
        if (view.itemsize == 8) {
          AppendTokens<uint64_t>(view.buf, count, &tokens);
          return tokens;
        }
        AppendTokens<uint32_t>(view.buf, count, &tokens);
        return tokens;
      default: break;
    }
  }
  ThrowInvalidArgument("token ids must be integers; this buffer holds format '" + format + "'");
}

std::vector<TokenId> TokensFromSequence(py::handle object) {
  py::sequence items = py::reinterpret_borrow<py::sequence>(object);
  std::vector<TokenId> tokens;
  tokens.reserve(items.size());
  size_t i = 0;
  for (py::handle item : items) {
    if (!PyLong_Check(item.ptr())) {
      ThrowInvalidArgument("token id " + std::to_string(i) + " is a " + TypeName(item) +
                           ", not an int");
    }
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(item.ptr(), &overflow);
    if (overflow != 0 || v < 0 || static_cast<uint64_t>(v) > kMaxTokenId) {
      ThrowInvalidArgument("token id " + std::to_string(i) + " is " +
                           std::string(py::str(item)) + ", outside 0..2^32 - 1");
    }
    tokens.push_back(static_cast<TokenId>(v));
    ++i;
  }
  return tokens;
}

}  // namespace

ByteRange ByteRange::From(py::handle object, bool writable, const char* what) {
  ByteRange range;
  if (PyObject_CheckBuffer(object.ptr())) {
    const int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object.ptr(), &range.view_, flags) != 0) {
      ThrowInvalidArgument(std::string(what) + " must be a " +
                           (writable ? "writable " : "") + "C-contiguous buffer: " +
                           TakePythonError());
    }
    range.has_view_ = true;
    range.data_ = static_cast<std::byte*>(range.view_.buf);
    range.size_ = static_cast<size_t>(range.view_.len);
    return range;
  }
  if (IsTorchTensor(object)) {
    py::object device = object.attr("device");
    if (std::string(py::str(device.attr("type"))) != "cpu") {
      ThrowInvalidArgument(std::string(what) + " is a tensor on " + std::string(py::str(device)) +
                           "; tierkv reads and writes host memory (use a CPU tensor)");
    }
    if (!object.attr("is_contiguous")().cast<bool>()) {
      ThrowInvalidArgument(std::string(what) + " is a tensor that is not contiguous");
    }
    range.tensor_ = py::reinterpret_borrow<py::object>(object);
    range.data_ = reinterpret_cast<std::byte*>(object.attr("data_ptr")().cast<uintptr_t>());
    range.size_ = object.attr("element_size")().cast<size_t>() *
                  object.attr("numel")().cast<size_t>();
    return range;
  }
  ThrowInvalidArgument(std::string(what) +
                       " must be bytes, bytearray, memoryview, a numpy array or a CPU torch "
                       "tensor, not " +
                       TypeName(object));
}

ByteRange::ByteRange(ByteRange&& other) noexcept
    : view_(other.view_),
      has_view_(std::exchange(other.has_view_, false)),
      tensor_(std::move(other.tensor_)),
      data_(other.data_),
      size_(other.size_) {}

ByteRange::~ByteRange() {
  if (has_view_) PyBuffer_Release(&view_);
}

std::vector<TokenId> TokensFrom(py::handle object) {
  if (PyList_Check(object.ptr()) || PyTuple_Check(object.ptr())) {
    return TokensFromSequence(object);
  }
  if (PyObject_CheckBuffer(object.ptr())) {
    Py_buffer view;
    if (PyObject_GetBuffer(object.ptr(), &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) != 0) {
      ThrowInvalidArgument("tokens must be a C-contiguous integer buffer: " + TakePythonError());
    }
    struct Releaser {
      Py_buffer* view;
      ~Releaser() { PyBuffer_Release(view); }
    } releaser{&view};
    return TokensFromBuffer(view);
  }
  if (IsTorchTensor(object)) {
    return TokensFrom(object.attr("detach")().attr("cpu")().attr("numpy")());
  }
  if (PySequence_Check(object.ptr())) return TokensFromSequence(object);
  ThrowInvalidArgument("tokens must be a sequence or array of ints, not " + TypeName(object));
}

void BindBlockBuffer(py::module_& m) {
  py::class_<BlockBuffer>(m, "_BlockBuffer", py::buffer_protocol(),
                          "The memory of one block, as a memoryview's exporter.")
      .def_buffer([](BlockBuffer& b) {
        return py::buffer_info(b.data, 1, py::format_descriptor<uint8_t>::format(), 1,
                               {static_cast<py::ssize_t>(b.size)}, {1}, b.readonly);
      });
}

py::object MemoryViewOf(BlockBuffer buffer) {
  py::object exporter = py::cast(std::move(buffer));
  PyObject* view = PyMemoryView_FromObject(exporter.ptr());
  if (!view) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(view);
}

}  // namespace tierkv::python
