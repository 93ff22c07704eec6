// The namespaces a daemon has opened, kept in data_dir/namespaces so that
// after a restart the blocks restored from NVMe belong to namespaces the
// daemon can name: `tierkv stats` lists them and `tierkv evict --namespace`
// finds them before any engine opens them again.
//
// File: records appended one per namespace, each
//   u32 spec_bytes | spec (OpenNamespaceRequest wire encoding) | u64 XXH3-64 of spec
// little-endian. A torn or damaged tail (a crash mid-append) ends the file:
// Open() keeps the records before it and cuts the rest off.
#pragma once

#include <string>
#include <vector>

#include "protocol/messages.h"
#include "tierkv/status.h"

namespace tierkv {

class NamespaceCatalog {
 public:
  // Opens (creating) the catalog and returns the specs recorded so far.
  static Result<NamespaceCatalog> Open(const std::string& path,
                                       std::vector<wire::OpenNamespaceRequest>* recorded);

  NamespaceCatalog(NamespaceCatalog&& other) noexcept;
  NamespaceCatalog& operator=(NamespaceCatalog&& other) noexcept;
  NamespaceCatalog(const NamespaceCatalog&) = delete;
  NamespaceCatalog& operator=(const NamespaceCatalog&) = delete;
  ~NamespaceCatalog();

  // Appends one spec and syncs it (namespaces are opened rarely).
  Status Append(const wire::OpenNamespaceRequest& spec);

 private:
  NamespaceCatalog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace tierkv
