# Shared by scripts/kubernetes/*.sh (sourced, not run): where the local cluster keeps its state,
# the addresses its parts listen on, and how its daemons are started and stopped.
#
# Everything listens on 127.0.0.1 only. The ports are Kubernetes' usual ones, except etcd's, which
# are moved off 2379/2380 so that an etcd a machine already runs is not in the way.

STATE="${MTLS_K8S_STATE:-/var/lib/mtls-pki-k8s}"
# Runtime files (sockets) live under /run: containerd's socket path must stay short.
RUN_DIR="${MTLS_K8S_RUN:-/run/mtls-pki-k8s}"
NODE_NAME="${MTLS_K8S_NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}"

API_PORT=6443
ETCD_CLIENT_PORT=12379
ETCD_PEER_PORT=12380
# Pods and Services get addresses from ranges no Docker network here uses (Docker's defaults are
# 172.17.0.0/16 upward and 10.0.0.0/24 for swarm's ingress; the tests' subnet pool is 10.192.0.0/12).
POD_CIDR="${MTLS_K8S_POD_CIDR:-10.244.0.0/24}"
SERVICE_CIDR="${MTLS_K8S_SERVICE_CIDR:-10.96.0.0/24}"
# The first address of the Service range is the `kubernetes` Service's; the API server's
# certificate names it.
SERVICE_API_IP="${SERVICE_CIDR%.*/*}.1"

# The CNI bridge and network name: ours alone, so that a teardown removes only what it made.
CNI_NETWORK=mtls-pki-k8s
CNI_BRIDGE=mtlspki0
CNI_BIN_DIR="${MTLS_K8S_CNI_BIN:-/usr/lib/cni}"
# The sandbox ("pause") image every pod starts with: built here (lib/pause-image.sh), never pulled.
PAUSE_IMAGE=mtls-pki.local/pause:1

CONTAINERD_SOCK="$RUN_DIR/containerd.sock"
PKI="$STATE/pki"
LOGS="$STATE/log"
PIDS="$STATE/pid"
ADMIN_KUBECONFIG="$STATE/admin.kubeconfig"

# The order `up` starts the daemons in; `down` stops them in reverse.
DAEMONS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)

say() { echo "kubernetes-cluster: $*" >&2; }
fail() {
  say "ERROR: $*"
  exit 1
}

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# The pid of a daemon this cluster started, if it still runs (and is still that program).
daemon_pid() {
  local name="$1" pid
  [[ -f "$PIDS/$name" ]] || return 1
  pid="$(cat "$PIDS/$name")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # A recycled pid belongs to another program: compare the executable's name.
  [[ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" == "$name" ]] || return 1
  echo "$pid"
}

# start_daemon NAME BINARY ARGS...: in its own session (it must outlive this script and not get
# the caller's terminal signals), output appended to $LOGS/NAME.log, pid in $PIDS/NAME.
start_daemon() {
  local name="$1" bin="$2"
  shift 2
  mkdir -p "$LOGS" "$PIDS"
  setsid "$bin" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name"
}

# Whether a process still runs. An ended daemon stays a zombie until PID 1 reaps it (the daemons
# outlive the `up` that started them, so PID 1 is their parent), which can take seconds; a zombie
# has no executable any more.
running() { readlink "/proc/$1/exe" >/dev/null 2>&1; }

# stop_daemon NAME: SIGTERM, then SIGKILL after 15 s; only the pid this cluster recorded.
stop_daemon() {
  local name="$1" pid i started=$SECONDS
  if pid="$(daemon_pid "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      say "$name (pid $pid) did not stop on SIGTERM within 15 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    ((SECONDS - started < 3)) || say "$name took $((SECONDS - started)) s to stop"
  fi
  rm -f "$PIDS/$name"
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; on timeout fails naming WHAT
# and the log to read.
wait_until() {
  local timeout="$1" what="$2" log="$3"
  shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      [[ -f "$log" ]] && tail -n 15 "$log" >&2
      fail "$what within ${timeout} s; see $log"
    fi
    sleep 0.2
  done
}
