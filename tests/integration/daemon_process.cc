#include "tests/integration/daemon_process.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace tierkv::testing {
namespace {

// How long a daemon may take to exit after SIGTERM (it flushes its host tier
// to NVMe first) before the test calls it hung and kills it.
constexpr auto kStopDeadline = std::chrono::seconds(120);
constexpr auto kStartDeadline = std::chrono::seconds(60);
constexpr auto kPollInterval = std::chrono::milliseconds(20);
// Start() retries with a new port when another process took it meanwhile.
constexpr int kPortAttempts = 5;

// A TCP port on 127.0.0.1 that was free a moment ago: the kernel's choice for
// a socket bound to port 0. Another process can take it before the daemon
// binds it, so Start() retries when the daemon reports the port in use.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Waits for `pid` until `deadline`; true (and *status set) when it exited.
bool WaitForExit(pid_t pid, std::chrono::steady_clock::duration deadline, int* status) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    const pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 || std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

}  // namespace

std::string BinDir() {
  const char* dir = std::getenv("TIERKV_BIN_DIR");
  return dir ? dir : "build/bin";
}

DaemonProcess::DaemonProcess(std::vector<std::string> extra_flags)
    : flags_(std::move(extra_flags)) {
  char tmpl[] = "/tmp/tierkv-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  socket_ = dir_ + "/tierkv.sock";
}

DaemonProcess::~DaemonProcess() {
  // A daemon still running at the end of a test is stopped the way an
  // operator stops it, so a leak, a sanitizer report at exit or a hang on
  // shutdown fails the test that started it.
  if (pid_ > 0) {
    const int status = Stop();
    if (status != 0) {
      ADD_FAILURE() << "tierkvd did not stop cleanly on SIGTERM (" << last_exit_ << "); its log:\n"
                    << log();
    }
  }
  if (std::getenv("TIERKV_KEEP_TEST_DIRS")) return;  // for post-mortems
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool DaemonProcess::Start() {
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    port_ = FreePort();
    const size_t log_before = log().size();
    if (StartOnce()) return true;
    // Retry only when the daemon exited because the port was taken meanwhile.
    if (running() || log().find("Address already in use", log_before) == std::string::npos) {
      return false;
    }
  }
  return false;
}

bool DaemonProcess::StartOnce() {
  std::vector<std::string> args = {BinDir() + "/tierkvd",
                                   "--socket", socket_,
                                   "--tcp", "127.0.0.1:" + std::to_string(port_),
                                   "--data-dir", dir_ + "/data",
                                   "--host-bytes", "64MiB",
                                   "--slab-bytes", "8MiB",
                                   "--nvme-bytes", "256MiB",
                                   "--gpu-bytes", "256MiB",
                                   "--metrics-listen", "off",
                                   "--log-level", "debug"};
  args.insert(args.end(), flags_.begin(), flags_.end());
  const std::string log_path = dir_ + "/tierkvd.log";
  pid_ = fork();
  if (pid_ == 0) {
    FILE* log = std::fopen(log_path.c_str(), "a");
    if (log) {
      dup2(fileno(log), STDOUT_FILENO);
      dup2(fileno(log), STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      last_exit_ = DescribeExit(status);
      return false;
    }
    auto c = Connect();
    if (c.ok() && (*c)->GetHealth().ok()) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

int DaemonProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  if (!WaitForExit(pid_, kStopDeadline, &status)) {
    Kill();
    last_exit_ =
        "still running " + std::to_string(kStopDeadline.count()) + " s after SIGTERM; killed";
    return -1;
  }
  pid_ = -1;
  last_exit_ = DescribeExit(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string DaemonProcess::log() const {
  std::ifstream in(dir_ + "/tierkvd.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::unique_ptr<Client>> DaemonProcess::Connect(const std::string& admin_token) const {
  ConnectOptions o;
  o.address = socket_;
  o.admin_token = admin_token;
  return Client::Connect(o);
}

Result<std::unique_ptr<Client>> DaemonProcess::ConnectTcp() const {
  ConnectOptions o;
  o.address = tcp_address();
  return Client::Connect(o);
}

NamespaceSpec TestSpec(uint64_t block_bytes, uint32_t block_tokens, const std::string& tenant) {
  NamespaceSpec spec;
  spec.model_fingerprint = "test-model";
  spec.tenant = tenant;
  spec.block_tokens = block_tokens;
  spec.block_bytes = block_bytes;
  return spec;
}

Prompt MakePrompt(const Namespace& ns, size_t blocks, TokenId first) {
  Prompt p;
  for (size_t i = 0; i < blocks * ns.block_tokens; ++i) p.tokens.push_back(first + i);
  p.keys = ChainBlockKeys(ns.id, p.tokens, ns.block_tokens);
  return p;
}

std::vector<std::byte> Payload(const Namespace& ns, size_t blocks, uint64_t seed) {
  std::vector<std::byte> out(blocks * ns.block_bytes);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= out.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

StoredPrompt MakeStoredPrompt(const Namespace& ns, size_t index, size_t blocks) {
  return {MakePrompt(ns, blocks, static_cast<TokenId>(100000 * (index + 1))),
          Payload(ns, blocks, index + 1)};
}

StoredPrompt PutStoredPrompt(Client& client, const Namespace& ns, size_t index, size_t blocks) {
  StoredPrompt s = MakeStoredPrompt(ns, index, blocks);
  const Status put = client.Put(ns, ns.id, s.prompt.keys, s.prompt.tokens, s.payload);
  EXPECT_TRUE(put.ok()) << "prompt " << index << ": " << put.ToString();
  return s;
}

size_t GetExact(Client& client, const Namespace& ns, const StoredPrompt& s, bool* exact) {
  std::vector<std::byte> out(s.payload.size());
  auto n = client.Get(ns, s.prompt.keys, s.prompt.tokens, out);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  if (!n.ok()) return 0;
  *exact = std::memcmp(out.data(), s.payload.data(), *n * ns.block_bytes) == 0;
  return *n;
}

}  // namespace tierkv::testing
