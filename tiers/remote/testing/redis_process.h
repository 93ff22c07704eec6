// Real Redis processes for tests and benchmarks: one redis-server started as a
// child of the test, or a 3-master, 3-replica cluster started by
// scripts/redis-cluster.sh; and redis-cli run against them. Test-only: no
// production code links this.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tierkv/status.h"

namespace tierkv::remote::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "tierkv-redis-");
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `argv` (argv[0] looked up on PATH) and returns its stdout with the
// trailing newline removed; IOError with its stderr if it exits nonzero.
Result<std::string> RunCommand(const std::vector<std::string>& argv);

// redis-cli -p PORT ARGS... (with -c, following redirects, for a cluster).
Result<std::string> RedisCli(uint16_t port, const std::vector<std::string>& args,
                             bool cluster = false);

// Polls `condition` every 10 ms until it holds or `timeout` passes; returns
// whether it held. For waits on other processes, never as a sleep.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(60));

// One redis-server, a child of this process (killed with it).
class RedisServer {
 public:
  // Starts it on a free loopback port, data in `dir`, with `extra_args` given
  // as command-line config ("--maxmemory", "1mb", ...); waits for PING.
  static Result<std::unique_ptr<RedisServer>> Start(const std::string& dir,
                                                    std::vector<std::string> extra_args = {});
  ~RedisServer();  // SIGKILL and reap

  uint16_t port() const { return port_; }
  std::string url() const;  // redis://127.0.0.1:PORT
  pid_t pid() const { return pid_; }
  // SIGSTOP / SIGCONT: a server that accepts connections and never answers.
  void Pause();
  void Resume();
  // Kills it and starts it again on the same port and config.
  Status Restart();

 private:
  RedisServer() = default;
  Status Spawn();
  void Kill();

  std::string dir_;
  std::vector<std::string> extra_args_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// A 3-master, 3-replica cluster in `dir` (scripts/redis-cluster.sh).
class RedisCluster {
 public:
  // Long enough that a node starved by a loaded machine is not failed over;
  // a test that kills a master asks for a shorter one.
  static constexpr std::chrono::milliseconds kDefaultNodeTimeout{5000};

  // `node_timeout` is the cluster-node-timeout: how long a master may be
  // unreachable before its replica takes over.
  static Result<std::unique_ptr<RedisCluster>> Start(
      const std::string& dir, std::chrono::milliseconds node_timeout = kDefaultNodeTimeout);
  ~RedisCluster();  // stops it

  std::string url() const;  // redis-cluster://SEED,SEED,SEED
  const std::vector<uint16_t>& ports() const { return ports_; }
  // Stops every node (the script's stop), or starts them again.
  Status Stop();
  Status Restart();
  // The pid recorded for the node on `port`.
  Result<pid_t> PidOf(uint16_t port) const;
  // Node id (CLUSTER MYID) of the node on `port`.
  Result<std::string> NodeId(uint16_t port) const;
  // The port of the master serving `slot`, by CLUSTER SLOTS from `asked`.
  Result<uint16_t> MasterOfSlot(uint16_t slot, uint16_t asked) const;
  // Ports of the nodes that report themselves as masters with slots.
  std::vector<uint16_t> Masters() const;

 private:
  RedisCluster() = default;
  std::string dir_;
  std::string seeds_;
  std::vector<uint16_t> ports_;
};

}  // namespace tierkv::remote::testing
