// Python objects as byte ranges and token ids, and block memory as Python
// buffers, without copying.
//
// Byte ranges come from any object with the buffer protocol (bytes,
// bytearray, memoryview, numpy arrays, array.array, mmap), C-contiguous, or
// from a CPU torch tensor, which has no buffer protocol and is read through
// data_ptr(). Every refusal is a tierkv InvalidArgument naming what was wrong.
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "tierkv/keys.h"

namespace tierkv::python {

namespace py = pybind11;

// The bytes of a Python object, held (the buffer stays exported, the object
// referenced) for this range's lifetime. Destroy it with the GIL held.
class ByteRange {
 public:
  // `writable`: the caller will write into the range.
  static ByteRange From(py::handle object, bool writable, const char* what);
  ByteRange(ByteRange&& other) noexcept;
  ByteRange& operator=(ByteRange&&) = delete;
  ~ByteRange();

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  ByteRange() = default;
  Py_buffer view_{};
  bool has_view_ = false;
  py::object tensor_;  // a torch tensor read through data_ptr()
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

// Token ids from a list or tuple of ints, an integer buffer (numpy, array.array)
// or an integer torch tensor. Every id must fit 32 bits unsigned.
std::vector<TokenId> TokensFrom(py::handle object);

// The object a block's memoryview is made from: it exports `size` bytes at
// `data` and keeps `owner` (the lease or reservation) alive meanwhile.
struct BlockBuffer {
  std::shared_ptr<void> owner;
  std::byte* data = nullptr;
  size_t size = 0;
  bool readonly = true;
};

// Registers BlockBuffer with the module (as _BlockBuffer, buffer protocol only).
void BindBlockBuffer(py::module_& m);

// A memoryview of `buffer`.
py::object MemoryViewOf(BlockBuffer buffer);

}  // namespace tierkv::python
