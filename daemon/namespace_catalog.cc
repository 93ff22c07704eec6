#include "daemon/namespace_catalog.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tierkv {
namespace {

constexpr size_t kLengthBytes = sizeof(uint32_t);
constexpr size_t kChecksumBytes = sizeof(uint64_t);
// A spec is a few names and numbers; anything longer is damage.
constexpr uint32_t kMaxSpecBytes = 16 << 10;

uint64_t Checksum(const uint8_t* data, size_t n) { return XXH3_64bits(data, n); }

Result<std::vector<uint8_t>> ReadAll(int fd, const std::string& path) {
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "read " + path);
    if (n == 0) return bytes;
    bytes.insert(bytes.end(), buf, buf + n);
  }
}

}  // namespace

Result<NamespaceCatalog> NamespaceCatalog::Open(const std::string& path,
                                                std::vector<wire::OpenNamespaceRequest>* recorded) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  NamespaceCatalog catalog(fd, path);
  TIERKV_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, ReadAll(fd, path));
  size_t at = 0;
  while (bytes.size() - at >= kLengthBytes) {
    uint32_t spec_bytes = 0;
    std::memcpy(&spec_bytes, bytes.data() + at, kLengthBytes);
    if (spec_bytes > kMaxSpecBytes ||
        bytes.size() - at - kLengthBytes < uint64_t{spec_bytes} + kChecksumBytes) {
      break;
    }
    const uint8_t* spec = bytes.data() + at + kLengthBytes;
    uint64_t checksum = 0;
    std::memcpy(&checksum, spec + spec_bytes, kChecksumBytes);
    wire::OpenNamespaceRequest decoded;
    wire::Reader r(std::span<const uint8_t>(spec, spec_bytes));
    if (checksum != Checksum(spec, spec_bytes) ||
        !wire::OpenNamespaceRequest::Decode(r, &decoded) || !r.done()) {
      break;
    }
    recorded->push_back(std::move(decoded));
    at += kLengthBytes + spec_bytes + kChecksumBytes;
  }
  if (at != bytes.size() && ::ftruncate(fd, static_cast<off_t>(at)) != 0) {
    return Status::FromErrno(errno, "cut the damaged tail of " + path);
  }
  if (::lseek(fd, 0, SEEK_END) < 0) return Status::FromErrno(errno, "seek " + path);
  return catalog;
}

NamespaceCatalog::NamespaceCatalog(NamespaceCatalog&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

NamespaceCatalog& NamespaceCatalog::operator=(NamespaceCatalog&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

NamespaceCatalog::~NamespaceCatalog() {
  if (fd_ >= 0) ::close(fd_);
}

Status NamespaceCatalog::Append(const wire::OpenNamespaceRequest& spec) {
  std::vector<uint8_t> encoded;
  wire::Writer w(&encoded);
  spec.Encode(w);
  const uint32_t spec_bytes = static_cast<uint32_t>(encoded.size());
  const uint64_t checksum = Checksum(encoded.data(), encoded.size());
  std::vector<uint8_t> record(kLengthBytes);
  std::memcpy(record.data(), &spec_bytes, kLengthBytes);
  record.insert(record.end(), encoded.begin(), encoded.end());
  record.resize(record.size() + kChecksumBytes);
  std::memcpy(record.data() + record.size() - kChecksumBytes, &checksum, kChecksumBytes);
  for (size_t done = 0; done < record.size();) {
    const ssize_t n = ::write(fd_, record.data() + done, record.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "append to " + path_);
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "sync " + path_);
  return Status::Ok();
}

}  // namespace tierkv
