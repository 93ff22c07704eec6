// Starts a real tierkvd process for a test and stops it afterwards.
//
// Each instance gets its own socket, TCP port (one the kernel reported free)
// and data directory under a fresh temporary directory, so tests can run in
// parallel. A daemon still running when the instance is destroyed is stopped
// with SIGTERM, and the test fails unless it exits with status 0: leaks and
// sanitizer reports at exit, and hangs on shutdown, are failures.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tierkv/client.h"

namespace tierkv::testing {

// Directory holding the built binaries (TIERKV_BIN_DIR, set by ctest).
std::string BinDir();

class DaemonProcess {
 public:
  // Extra flags are appended to the defaults (small host pool, temp paths).
  explicit DaemonProcess(std::vector<std::string> extra_flags = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts the daemon and waits until it answers health; false on failure
  // (see log() and last_exit()).
  bool Start();
  // SIGTERM, then wait; returns the exit status, or -1 when it died of a
  // signal or had to be killed because it did not exit.
  int Stop();
  void Kill();  // SIGKILL, for crash tests
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  const std::string& socket_path() const { return socket_; }
  std::string tcp_address() const { return "tcp:127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  std::string log() const;
  // How the last run ended ("exit status 0", "signal Aborted", ...).
  const std::string& last_exit() const { return last_exit_; }

  Result<std::unique_ptr<Client>> Connect(const std::string& admin_token = "") const;
  Result<std::unique_ptr<Client>> ConnectTcp() const;

 private:
  std::vector<std::string> flags_;
  std::string dir_;
  std::string socket_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string last_exit_ = "not started";

  bool StartOnce();
};

// A namespace spec with the given block size, for tests.
NamespaceSpec TestSpec(uint64_t block_bytes, uint32_t block_tokens = 16,
                       const std::string& tenant = "default");

// `blocks` blocks of tokens starting at `first`, and their keys.
struct Prompt {
  std::vector<TokenId> tokens;
  std::vector<Key128> keys;
};
Prompt MakePrompt(const Namespace& ns, size_t blocks, TokenId first = 1);

// Deterministic payload bytes for block `i` of a prompt seeded by `seed`.
std::vector<std::byte> Payload(const Namespace& ns, size_t blocks, uint64_t seed);

// A prompt and the bytes stored for it: prompt `index` of `blocks` blocks has
// tokens from 100000 * (index + 1) and payload seed index + 1, so any test
// (or a restarted one) can recompute what it stored.
struct StoredPrompt {
  Prompt prompt;
  std::vector<std::byte> payload;
};
StoredPrompt MakeStoredPrompt(const Namespace& ns, size_t index, size_t blocks);
// Makes prompt `index` and puts it; a failed put fails the current test.
StoredPrompt PutStoredPrompt(Client& client, const Namespace& ns, size_t index, size_t blocks);
// How many leading blocks of `s` the daemon serves; *exact says whether they
// are the bytes that were stored. A failed get fails the test and serves 0.
size_t GetExact(Client& client, const Namespace& ns, const StoredPrompt& s, bool* exact);

}  // namespace tierkv::testing
