#include "tierkv/status.h"

#include <cstring>

namespace tierkv {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIOError: return "io_error";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kProtocolError: return "protocol_error";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kUnsupported: return "unsupported";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string_view message) {
  if (code != StatusCode::kOk) {
    state_ = std::make_shared<const State>(State{code, std::string(message)});
  }
}

Status Status::FromErrno(int err, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  switch (err) {
    case ENOENT: return NotFound(msg);
    case ENOSPC:
    case EDQUOT:
    case ENOMEM: return ResourceExhausted(msg);
    case EACCES:
    case EPERM: return PermissionDenied(msg);
    case EINVAL: return InvalidArgument(msg);
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN: return Unavailable(msg);
    default: return IOError(msg);
  }
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(StatusCodeName(code()));
  s += ": ";
  s += message();
  return s;
}

}  // namespace tierkv
