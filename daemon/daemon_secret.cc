#include "daemon/daemon_secret.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace tierkv {
namespace {

constexpr size_t kSecretBytes = 32;

}  // namespace

Result<std::string> LoadOrCreateSecret(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::IOError("create data dir " + data_dir + ": " + ec.message());
  const std::string path = data_dir + "/secret";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    std::string secret(kSecretBytes, '\0');
    const ssize_t n = ::read(fd, secret.data(), kSecretBytes);
    ::close(fd);
    if (n == static_cast<ssize_t>(kSecretBytes)) return secret;
    return Status::Corruption(path + " is truncated; remove it to start a fresh cache");
  }
  if (errno != ENOENT) return Status::FromErrno(errno, "open " + path);
  std::string secret(kSecretBytes, '\0');
  if (::getrandom(secret.data(), kSecretBytes, 0) != static_cast<ssize_t>(kSecretBytes)) {
    return Status::FromErrno(errno, "getrandom");
  }
  // Write to a temporary name and rename, so a crash never leaves half a secret.
  const std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "create " + tmp);
  const bool ok = ::write(fd, secret.data(), kSecretBytes) == static_cast<ssize_t>(kSecretBytes) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::FromErrno(errno, "write " + path);
  }
  return secret;
}

}  // namespace tierkv
