#include "daemon/daemon_secret.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace tierkv {
namespace {

// Reads the whole secret file; NotFound when it does not exist.
Result<std::string> ReadSecret(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path);
    return Status::FromErrno(errno, "open " + path);
  }
  std::string secret(kSecretBytes + 1, '\0');
  const ssize_t n = ::read(fd, secret.data(), secret.size());
  ::close(fd);
  if (n < 0) return Status::FromErrno(errno, "read " + path);
  if (n != static_cast<ssize_t>(kSecretBytes)) {
    return Status::Corruption(path + " holds " + std::to_string(n) + " bytes, not the " +
                              std::to_string(kSecretBytes) +
                              " of a daemon secret; remove it to start a fresh cache");
  }
  secret.resize(kSecretBytes);
  return secret;
}

}  // namespace

Result<std::string> LoadOrCreateSecret(const std::string& path) {
  auto existing = ReadSecret(path);
  if (!existing.status().IsNotFound()) return existing;

  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Status::IOError("create directory " + parent.string() + ": " + ec.message());
  std::string secret(kSecretBytes, '\0');
  if (::getrandom(secret.data(), kSecretBytes, 0) != static_cast<ssize_t>(kSecretBytes)) {
    return Status::FromErrno(errno, "getrandom");
  }
  // Written whole under a unique name (mkostemp: mode 0600), then linked into
  // place: a crash never leaves half a secret, and of several daemons
  // creating it at once exactly one link succeeds; the others read the winner's.
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "create " + path + ".tmp");
  const bool written =
      ::write(fd, secret.data(), kSecretBytes) == static_cast<ssize_t>(kSecretBytes) &&
      ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return Status::FromErrno(write_errno, "write " + tmp);
  }
  const bool linked = ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked) return secret;
  if (link_errno == EEXIST) return ReadSecret(path);
  return Status::FromErrno(link_errno, "create " + path);
}

}  // namespace tierkv
