#include "tests/integration/daemon_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace tierkv::testing {
namespace {

int FreePort() {
  // Ports from a range unlikely to be in use, spread by pid so parallel
  // test processes do not collide.
  static int next = 20000 + (getpid() % 2000) * 10;
  return next++;
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
  port_ = FreePort();
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) Kill();
  if (std::getenv("TIERKV_KEEP_TEST_DIRS")) return;  // for post-mortems
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool DaemonProcess::Start() {
  std::vector<std::string> args = {BinDir() + "/tierkvd",
                                   "--socket", socket_,
                                   "--tcp", "127.0.0.1:" + std::to_string(port_),
                                   "--data-dir", dir_ + "/data",
                                   "--host-bytes", "64MiB",
                                   "--slab-bytes", "8MiB",
                                   "--nvme-bytes", "256MiB",
                                   "--gpu-bytes", "256MiB",
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
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    auto c = Connect();
    if (c.ok() && (*c)->GetHealth().ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int DaemonProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
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

}  // namespace tierkv::testing
