#include "daemon/data_dir_modes.h"

#include <filesystem>
#include <system_error>

namespace tierkv {
namespace {

namespace fs = std::filesystem;

constexpr fs::perms kGroupAndOthers = fs::perms::group_all | fs::perms::others_all;
// What the daemon keeps in its data dir (daemon/daemon_secret.cc, daemon/nvme_setup.cc).
constexpr const char* kOwnEntries[] = {"secret", "nvme"};

// Clears the group and other bits of `path` when any is set.
void Restrict(const fs::path& path, const fs::file_status& status, DataDirModeFix* fix) {
  if ((status.permissions() & kGroupAndOthers) == fs::perms::none) return;
  std::error_code ec;
  fs::permissions(path, kGroupAndOthers, fs::perm_options::remove, ec);
  if (ec) {
    if (fix->first_error.ok()) {
      fix->first_error = Status::FromErrno(ec.value(), "chmod " + path.string());
    }
    return;
  }
  ++fix->fixed;
}

// Restricts `root` and everything below it; a missing root is no error.
void RestrictTree(const fs::path& root, DataDirModeFix* fix) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(root, ec);
  if (ec || !fs::exists(status) || fs::is_symlink(status)) return;
  Restrict(root, status, fix);
  if (!fs::is_directory(status)) return;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::file_status entry = it->symlink_status(ec);
    if (ec) break;
    if (!fs::is_symlink(entry)) Restrict(it->path(), entry, fix);
  }
  if (ec && fix->first_error.ok()) {
    fix->first_error = Status::FromErrno(ec.value(), "list " + root.string());
  }
}

}  // namespace

DataDirModeFix RestrictDataDirModes(const std::string& data_dir) {
  DataDirModeFix fix;
  std::error_code ec;
  const fs::file_status top = fs::symlink_status(data_dir, ec);
  if (ec || !fs::is_directory(top)) return fix;  // nothing there yet (or a link: not ours)
  if ((top.permissions() & fs::perms::sticky_bit) != fs::perms::none) {
    // A shared directory: only the entries the daemon makes in it are its own.
    fix.shared_dir_left = true;
    for (const char* own : kOwnEntries) RestrictTree(fs::path(data_dir) / own, &fix);
    return fix;
  }
  RestrictTree(data_dir, &fix);
  return fix;
}

}  // namespace tierkv
