#!/usr/bin/env bash
# Starts and stops a local Redis Cluster of 3 masters and 3 replicas for tests,
# benchmarks and demos (redis-server and redis-cli from Debian).
#
#   scripts/redis-cluster.sh start DIR   starts the cluster in DIR and prints its
#                                        seed addresses on stdout, one line:
#                                        127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3
#   scripts/redis-cluster.sh stop DIR    stops every server started in DIR, by the
#                                        PIDs recorded there
#
# start on a DIR that already holds a stopped cluster restarts the same nodes on
# the same ports; they find each other again through their nodes.conf. Ports are
# free loopback ports chosen at random below 32768 (each node also takes
# PORT+10000 for the cluster bus). Nothing is persisted: a restarted cluster is empty.
#
# Environment: REDIS_CLUSTER_NODE_TIMEOUT_MS (default 2000), the cluster-node-timeout
# that bounds how long a master may be unreachable before its replica takes over.
set -euo pipefail

readonly kNodes=6
readonly kBusOffset=10000
# Below the kernel's ephemeral range (32768 up), bus ports included, so that no
# client connection's local port can take a node's port between check and bind.
readonly kLowestPort=10000
readonly kPortSpan=12700
readonly kStartAttempts=5
readonly kWaitSeconds=60
node_timeout_ms=${REDIS_CLUSTER_NODE_TIMEOUT_MS:-2000}

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
  echo "redis-cluster: $*" >&2
  exit 1
}

port_in_use() {
  (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null
}

# Prints kNodes consecutive ports whose cluster-bus ports are free too.
pick_ports() {
  local attempt base p ok
  for attempt in $(seq 1 50); do
    base=$((kLowestPort + RANDOM * RANDOM % kPortSpan))
    ok=1
    for p in $(seq "$base" $((base + kNodes - 1))); do
      if port_in_use "$p" || port_in_use $((p + kBusOffset)); then
        ok=0
        break
      fi
    done
    if ((ok)); then
      seq "$base" $((base + kNodes - 1))
      return 0
    fi
  done
  die "no free block of $kNodes loopback ports found"
}

write_config() {
  local dir=$1 port=$2
  mkdir -p "$dir/node-$port"
  cat >"$dir/node-$port/redis.conf" <<EOF
port $port
bind 127.0.0.1
daemonize no
dir $dir/node-$port
pidfile $dir/node-$port/redis.pid
logfile $dir/node-$port/redis.log
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout $node_timeout_ms
save ""
appendonly no
# A replica syncs at once (the default waits 5 s for more replicas to join).
repl-diskless-sync-delay 0
# Nothing is persisted, so a master stops at once instead of waiting for its replica.
shutdown-timeout 0
EOF
}

# Whether process $1 exists and has not exited (an exited child of this script
# stays a zombie until the script ends).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [[ -n "$state" && "$state" != Z ]]
}

# Waits until the server on $2 answers PING; fails at once if its process
# exited (a port taken at bind), or after kWaitSeconds.
wait_ping() {
  local dir=$1 port=$2 deadline=$((SECONDS + kWaitSeconds)) pid
  pid=$(cat "$dir/node-$port/redis.pid")
  until redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; do
    alive "$pid" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# Starts each node in the background (not daemonized, so that its pid is known
# before it binds and a failed start is seen at once) and waits for its PING.
start_servers() {
  local dir=$1
  shift
  local port
  for port in "$@"; do
    redis-server "$dir/node-$port/redis.conf" </dev/null >>"$dir/node-$port/redis.out" 2>&1 &
    echo $! >"$dir/node-$port/redis.pid"
  done
  for port in "$@"; do
    wait_ping "$dir" "$port" || return 1
  done
}

# Waits until every node reports cluster_state:ok with all 16384 slots served.
wait_cluster_ok() {
  local deadline=$((SECONDS + kWaitSeconds)) port info all_ok
  while ((SECONDS < deadline)); do
    all_ok=1
    for port in "$@"; do
      info=$(redis-cli -p "$port" cluster info 2>/dev/null || true)
      if ! grep -q '^cluster_state:ok' <<<"$info" ||
         ! grep -q '^cluster_slots_ok:16384' <<<"$info"; then
        all_ok=0
        break
      fi
    done
    ((all_ok)) && return 0
    sleep 0.1
  done
  die "cluster in $dir did not reach cluster_state:ok within ${kWaitSeconds}s"
}

# Waits until each of the three masters has a replica attached and in sync.
wait_replicas() {
  local deadline=$((SECONDS + kWaitSeconds)) port
  while ((SECONDS < deadline)); do
    local attached=0
    for port in "$@"; do
      if redis-cli -p "$port" info replication 2>/dev/null |
         grep -q '^master_link_status:up'; then
        attached=$((attached + 1))
      fi
    done
    ((attached >= kNodes / 2)) && return 0
    sleep 0.1
  done
  die "replicas did not attach within ${kWaitSeconds}s"
}

stop_servers() {
  local dir=$1 pidfile pid pids=()
  for pidfile in "$dir"/node-*/redis.pid; do
    [[ -f "$pidfile" ]] || continue
    pid=$(cat "$pidfile")
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
       grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$dir"/node-*/redis.pid
}

seeds_line() {
  local line="" port i=0
  for port in "$@"; do
    ((i++ < kNodes / 2)) || break
    line+="${line:+,}127.0.0.1:$port"
  done
  echo "$line"
}

start() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
  command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
  if [[ -f "$dir/ports" ]]; then
    local ports
    mapfile -t ports <"$dir/ports"
    start_servers "$dir" "${ports[@]}" || die "restart failed; see $dir/node-*/redis.log"
    wait_cluster_ok "${ports[@]}"
    seeds_line "${ports[@]}"
    return 0
  fi
  local attempt
  for attempt in $(seq 1 "$kStartAttempts"); do
    local ports
    mapfile -t ports < <(pick_ports)
    local port
    for port in "${ports[@]}"; do write_config "$dir" "$port"; done
    if start_servers "$dir" "${ports[@]}"; then
      local addrs=()
      for port in "${ports[@]}"; do addrs+=("127.0.0.1:$port"); done
      redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
        die "redis-cli --cluster create failed; see $dir/create.log"
      printf '%s\n' "${ports[@]}" >"$dir/ports"
      wait_cluster_ok "${ports[@]}"
      wait_replicas "${ports[@]}"
      seeds_line "${ports[@]}"
      return 0
    fi
    # A port was taken between the check and the bind (another test): try others.
    stop_servers "$dir"
    for port in "${ports[@]}"; do rm -rf "$dir/node-$port"; done
  done
  die "could not start $kNodes redis-server processes in $dir after $kStartAttempts attempts"
}

case "${1:-}" in
  start)
    [[ $# -eq 2 ]] || { usage >&2; exit 2; }
    start "$2"
    ;;
  stop)
    [[ $# -eq 2 ]] || { usage >&2; exit 2; }
    [[ -d "$2" ]] || die "no such directory: $2"
    stop_servers "$2"
    ;;
  -h | --help | help)
    usage
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
