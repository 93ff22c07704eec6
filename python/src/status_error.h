// How a non-OK Status travels from the extension's C++ to Python: thrown as a
// StatusError, translated (module.cc) into the exception class that
// tierkv/errors.py registered for its code.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include "tierkv/status.h"

namespace tierkv::python {

// A non-OK Status on its way to Python, where it becomes the exception class
// registered for its code (tierkv/errors.py).
class StatusError : public std::exception {
 public:
  explicit StatusError(Status status) : status_(std::move(status)) {}
  const Status& status() const { return status_; }
  const char* what() const noexcept override { return "tierkv status error"; }

 private:
  Status status_;
};

// Throws StatusError for a non-OK status.
inline void ThrowIfError(const Status& status) {
  if (!status.ok()) throw StatusError(status);
}
[[noreturn]] inline void ThrowInvalidArgument(const std::string& message) {
  throw StatusError(Status::InvalidArgument(message));
}
template <typename T>
T ValueOrThrow(Result<T> result) {
  ThrowIfError(result.status());
  return std::move(result).value();
}

}  // namespace tierkv::python
