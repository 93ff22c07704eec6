#include "tiers/remote/testing/redis_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace tierkv::remote::testing {
namespace {

constexpr int kStartAttempts = 5;
constexpr std::chrono::seconds kStartTimeout{30};
const std::string kClusterScript = std::string(TIERKV_SOURCE_DIR) + "/scripts/redis-cluster.sh";

std::vector<char*> CArgv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (std::string& arg : argv) out.push_back(arg.data());
  out.push_back(nullptr);
  return out;
}

// Drains both pipes until the child closes them.
void ReadAll(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open = 2;
  char buffer[4096];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        (i == 0 ? out : err).append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
}

uint16_t FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t len = sizeof(address);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

bool Pings(uint16_t port) {
  const timeval timeout{1, 0};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
  bool ok = false;
  if (context != nullptr && context->err == 0) {
    redisSetTimeout(context, timeout);
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    ok = reply != nullptr;  // PONG, or NOAUTH from a server that wants a password
    if (reply != nullptr) freeReplyObject(reply);
  }
  if (context != nullptr) redisFree(context);
  return ok;
}

}  // namespace

ScratchDir::ScratchDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = buffer.data();
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Result<std::string> RunCommand(const std::vector<std::string>& argv_in) {
  std::vector<std::string> argv = argv_in;
  std::vector<char*> c_argv = CArgv(argv);
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Status::FromErrno(errno, "pipe");
  }
  const pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno(errno, "fork");
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execvp(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  std::string out, err;
  ReadAll(out_pipe[0], err_pipe[0], out, err);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command;
    for (const std::string& arg : argv_in) command += (command.empty() ? "" : " ") + arg;
    return Status::IOError(command + " failed (status " + std::to_string(status) + "): " + err);
  }
  return out;
}

Result<std::string> RedisCli(uint16_t port, const std::vector<std::string>& args, bool cluster) {
  std::vector<std::string> argv = {"redis-cli", "-p", std::to_string(port)};
  if (cluster) argv.push_back("-c");
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

Result<std::unique_ptr<RedisServer>> RedisServer::Start(const std::string& dir,
                                                        std::vector<std::string> extra_args) {
  std::unique_ptr<RedisServer> server(new RedisServer());
  server->dir_ = dir;
  server->extra_args_ = std::move(extra_args);
  Status last = Status::Unavailable("no attempt made");
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    server->port_ = FreeLoopbackPort();
    last = server->Spawn();
    if (last.ok()) return server;
  }
  return last;
}

Status RedisServer::Spawn() {
  std::vector<std::string> argv = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_,
                                   "--logfile",
                                   dir_ + "/redis-" + std::to_string(port_) + ".log"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> c_argv = CArgv(argv);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) return Status::FromErrno(errno, "fork");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::execvp(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  const bool up = WaitFor(
      [&] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;  // it exited: the port was taken, or a bad argument
        }
        return Pings(port_);
      },
      kStartTimeout);
  if (pid_ < 0) return Status::Unavailable("redis-server exited at start (port taken?)");
  if (!up) {
    Kill();
    return Status::Unavailable("redis-server did not answer PING");
  }
  return Status::Ok();
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

RedisServer::~RedisServer() { Kill(); }

std::string RedisServer::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

void RedisServer::Pause() { ::kill(pid_, SIGSTOP); }
void RedisServer::Resume() { ::kill(pid_, SIGCONT); }

Status RedisServer::Restart() {
  Kill();
  Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    last = Spawn();
    if (last.ok()) return last;
  }
  return last;
}

Result<std::unique_ptr<RedisCluster>> RedisCluster::Start(const std::string& dir,
                                                      std::chrono::milliseconds node_timeout) {
  std::unique_ptr<RedisCluster> cluster(new RedisCluster());
  cluster->dir_ = dir;
  const std::string timeout_env =
      "REDIS_CLUSTER_NODE_TIMEOUT_MS=" + std::to_string(node_timeout.count());
  TIERKV_ASSIGN_OR_RETURN(cluster->seeds_,
                          RunCommand({"env", timeout_env, "bash", kClusterScript, "start", dir}));
  std::ifstream ports(dir + "/ports");
  for (uint32_t port = 0; ports >> port;) cluster->ports_.push_back(static_cast<uint16_t>(port));
  if (cluster->ports_.empty()) return Status::IOError("no ports recorded in " + dir);
  return cluster;
}

RedisCluster::~RedisCluster() {
  Status ignored = Stop();
  (void)ignored;
}

std::string RedisCluster::url() const { return "redis-cluster://" + seeds_; }

Status RedisCluster::Stop() {
  auto result = RunCommand({"bash", kClusterScript, "stop", dir_});
  return result.ok() ? Status::Ok() : result.status();
}

Status RedisCluster::Restart() {
  auto result = RunCommand({"bash", kClusterScript, "start", dir_});
  return result.ok() ? Status::Ok() : result.status();
}

Result<pid_t> RedisCluster::PidOf(uint16_t port) const {
  std::ifstream file(dir_ + "/node-" + std::to_string(port) + "/redis.pid");
  pid_t pid = 0;
  if (!(file >> pid) || pid <= 0)
    return Status::NotFound("no pid for port " + std::to_string(port));
  return pid;
}

Result<std::string> RedisCluster::NodeId(uint16_t port) const {
  return RedisCli(port, {"CLUSTER", "MYID"});
}

Result<uint16_t> RedisCluster::MasterOfSlot(uint16_t slot, uint16_t asked) const {
  TIERKV_ASSIGN_OR_RETURN(std::string nodes, RedisCli(asked, {"CLUSTER", "NODES"}));
  // Lines: id host:port@bus flags master-id ping pong epoch link-state slot...
  std::istringstream lines(nodes);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, address, flags, master, ping, pong, epoch, link;
    fields >> id >> address >> flags >> master >> ping >> pong >> epoch >> link;
    if (flags.find("master") == std::string::npos || flags.find("fail") != std::string::npos) {
      continue;
    }
    for (std::string range; fields >> range;) {
      if (range.front() == '[') continue;  // a slot being migrated or imported
      const size_t dash = range.find('-');
      const int first = std::stoi(range.substr(0, dash));
      const int last = dash == std::string::npos ? first : std::stoi(range.substr(dash + 1));
      if (slot >= first && slot <= last) {
        const size_t colon = address.find(':');
        const size_t at = address.find('@');
        return static_cast<uint16_t>(std::stoi(address.substr(colon + 1, at - colon - 1)));
      }
    }
  }
  return Status::NotFound("no master serves slot " + std::to_string(slot));
}

std::vector<uint16_t> RedisCluster::Masters() const {
  std::vector<uint16_t> masters;
  for (uint16_t port : ports_) {
    auto role = RedisCli(port, {"ROLE"});
    if (role.ok() && role->starts_with("master")) {
      auto info = RedisCli(port, {"CLUSTER", "INFO"});
      if (info.ok() && info->find("cluster_state:ok") != std::string::npos) {
        masters.push_back(port);
      }
    }
  }
  return masters;
}

}  // namespace tierkv::remote::testing
