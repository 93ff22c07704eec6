// TempDir: a fresh directory under $TMPDIR (or /tmp) removed with everything
// in it on destruction. For tests and benchmarks.
#pragma once

#include <string>

namespace tierkv::nvme::testing {

class TempDir {
 public:
  // Creates "<base>/<prefix>XXXXXX"; aborts the test binary if it cannot.
  explicit TempDir(const std::string& prefix = "tierkv-nvme-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace tierkv::nvme::testing
