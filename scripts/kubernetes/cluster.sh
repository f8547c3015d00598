#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, for the Kubernetes tests and for trying
# `runtime: kubernetes` locally: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a
# containerd of its own, the kubelet and kube-proxy, all listening on 127.0.0.1 only. Needs root,
# Linux with cgroup v1 or v2 and Debian's containerd, runc, etcd-server and
# containernetworking-plugins (.ci/run installs them), and Go (for the binaries: build.sh).
#
#   scripts/kubernetes/cluster.sh up       # idempotent; waits until the node is Ready
#   scripts/kubernetes/cluster.sh status   # what runs; exit 0 only when the API server answers
#   scripts/kubernetes/cluster.sh down     # stops it and removes everything it made
#   scripts/kubernetes/cluster.sh restart kubelet   # stops one daemon, then `up` (pods keep running)
#
#   MTLS_K8S_STATE=/var/lib/mtls-pki-k8s   # its state: certificates, etcd, containerd, logs
#   MTLS_K8S_NODE_NAME=<hostname>          # the node's name; must resolve to 127.0.0.1
#   MTLS_K8S_PREBUILT=<dir>, MTLS_K8S_VERSION, MTLS_K8S_CACHE: see build.sh
#
# `up` writes $MTLS_K8S_STATE/admin.kubeconfig (cluster admin, the only credential a user needs)
# and links $MTLS_K8S_STATE/bin to the binaries' folder ($MTLS_K8S_STATE/bin/kubectl).
# Images are not pulled: load them from the local Docker engine with load-image.sh and give pods
# `imagePullPolicy: Never`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
source "$HERE/lib/pki.sh"
source "$HERE/lib/configs.sh"
source "$HERE/lib/pause-image.sh"
source "$HERE/lib/teardown.sh"

kubectl_admin() { "$STATE/bin/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" --request-timeout=5s "$@"; }
api_ready() { [[ "$(kubectl_admin get --raw /readyz 2>/dev/null)" == ok ]]; }
node_ready() {
  [[ "$(kubectl_admin get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}
default_service_account() { kubectl_admin -n default get serviceaccount default; }

check_machine() {
  [[ "$(id -u)" == 0 ]] || fail "needs root (it starts containerd and the kubelet)"
  local tool
  for tool in etcd containerd containerd-shim-runc-v2 runc ctr iptables ip openssl setsid; do
    command -v "$tool" >/dev/null ||
      fail "$tool not found: install Debian's containerd, runc, etcd-server, iptables, iproute2 and openssl"
  done
  for tool in bridge host-local loopback firewall portmap; do
    [[ -x "$CNI_BIN_DIR/$tool" ]] || fail "CNI plugin $CNI_BIN_DIR/$tool not found: install Debian's containernetworking-plugins (or set MTLS_K8S_CNI_BIN)"
  done
  # The API server reaches the kubelet (logs, exec) by the node's name, and the kubelet listens on
  # 127.0.0.1 only.
  [[ "$(getent ahostsv4 "$NODE_NAME" | awk 'NR == 1 { print $1 }')" == 127.0.0.1 ]] ||
    fail "the node name '$NODE_NAME' does not resolve to 127.0.0.1: add '127.0.0.1 $NODE_NAME' to /etc/hosts or set MTLS_K8S_NODE_NAME=localhost"
}

start_etcd() {
  start_daemon etcd etcd --name mtls-pki-k8s --data-dir "$STATE/etcd" \
    --listen-client-urls "https://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "https://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "mtls-pki-k8s=http://127.0.0.1:$ETCD_PEER_PORT" \
    --cert-file "$PKI/etcd-server.crt" --key-file "$PKI/etcd-server.key" \
    --client-cert-auth --trusted-ca-file "$PKI/ca.crt"
}

# The requestheader flags publish a front-proxy CA for the controller-manager's and scheduler's
# delegated authentication (which otherwise log its absence every minute); no front proxy is run
# and no certificate named front-proxy-client is issued, so no one authenticates by those headers.
start_apiserver() {
  start_daemon kube-apiserver "$BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --secure-port="$API_PORT" \
    --etcd-servers="https://127.0.0.1:$ETCD_CLIENT_PORT" --etcd-cafile="$PKI/ca.crt" \
    --etcd-certfile="$PKI/apiserver-etcd-client.crt" --etcd-keyfile="$PKI/apiserver-etcd-client.key" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/service-account.pub" \
    --service-account-signing-key-file="$PKI/service-account.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" \
    --kubelet-preferred-address-types=Hostname,InternalIP \
    --profiling=false
}

start_controller_manager() {
  start_daemon kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/service-account.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --profiling=false
}

start_scheduler() {
  start_daemon kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

# The pods' network namespaces are mounted in /run/netns. Made a shared mount of its own first, as
# `ip netns add` does when it finds none: were that to happen later, while pods run, the mounts made
# before would end up hidden beneath it and their pods could never be removed (lib/teardown.sh:
# reach_shadowed_netns). `down` undoes it when nothing else is mounted there.
share_netns_folder() {
  mkdir -p /run/netns
  mountpoint -q /run/netns && return 0
  # -n: util-linux keeps no record of it in /run/mount/utab.
  mount -n --bind /run/netns /run/netns && mount -n --make-shared /run/netns ||
    fail "could not make /run/netns a shared mount (mount --bind, --make-shared)"
  touch "$STATE/netns-folder-mounted"
}

start_containerd() {
  share_netns_folder
  mkdir -p "$RUN_DIR"
  start_daemon containerd containerd --config "$STATE/config/containerd.toml"
}

start_kubelet() {
  record_sysctls
  start_daemon kubelet "$BIN/kubelet" --config="$STATE/config/kubelet.yaml" \
    --kubeconfig="$STATE/node.kubeconfig" --hostname-override="$NODE_NAME" \
    --root-dir="$STATE/kubelet"
}

# A Service's cluster IP only exists in kube-proxy's DNAT rules. Until they are written for a new
# Service (or while kube-proxy is down), a pod's packets to that IP would follow the node's default
# route off the machine, and whatever answers there (a gateway's 404) looks like an answer. An
# unreachable route for the service range keeps them on the node: the pod gets EHOSTUNREACH until
# the rules exist, and a packet already rewritten by them is routed to its pod as before.
fence_service_range() {
  ip route replace unreachable "$SERVICE_CIDR" || fail "could not add the unreachable route for $SERVICE_CIDR"
}

start_kube_proxy() {
  start_daemon kube-proxy "$BIN/kube-proxy" --config="$STATE/config/kube-proxy.yaml"
}

# ensure NAME START_FUNCTION READY_CHECK...: starts NAME unless it runs, then waits for it.
ensure() {
  local name="$1" start="$2"
  shift 2
  if daemon_pid "$name" >/dev/null; then return 0; fi
  "$start"
  wait_until 60 "$name did not become ready" "$LOGS/$name.log" "$@"
}

etcd_ready() {
  # etcd's /health over its client port, with the API server's client certificate.
  curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/apiserver-etcd-client.crt" \
    --key "$PKI/apiserver-etcd-client.key" "https://127.0.0.1:$ETCD_CLIENT_PORT/health" | grep -q '"health":"true"'
}
healthz() { curl -sfk "https://127.0.0.1:$1/healthz" | grep -qx ok; }
containerd_ready() { ctr --address "$CONTAINERD_SOCK" version; }
kubelet_ready() { curl -sf http://127.0.0.1:10248/healthz | grep -qx ok; }
kube_proxy_ready() { curl -sf http://127.0.0.1:10256/healthz; }

# A cluster whose daemons all died (a reboot, a session whose processes were ended) leaves mounts,
# chains and cgroups behind: clear them before starting anew, keeping nothing.
clear_dead_cluster() {
  local name
  for name in "${DAEMONS[@]}"; do daemon_pid "$name" >/dev/null && return 0; done
  if [[ -n "$(leftovers)" ]]; then
    say "no daemon of a previous cluster runs, but it left state behind: removing it first"
    remove_leftovers
  fi
}

cmd_up() {
  check_machine
  command -v curl >/dev/null || fail "curl not found: install Debian's curl"
  local started=$SECONDS
  clear_dead_cluster
  BIN="$("$HERE/build.sh")"
  mkdir -p "$STATE" "$LOGS" "$PIDS"
  chmod 700 "$STATE"
  ln -sfn "$BIN" "$STATE/bin"
  make_pki
  write_configs
  ensure etcd start_etcd etcd_ready
  ensure kube-apiserver start_apiserver api_ready
  ensure kube-controller-manager start_controller_manager healthz 10257
  ensure kube-scheduler start_scheduler healthz 10259
  ensure containerd start_containerd containerd_ready
  import_pause_image
  ensure kubelet start_kubelet kubelet_ready
  fence_service_range
  ensure kube-proxy start_kube_proxy kube_proxy_ready
  wait_until 90 "node $NODE_NAME did not become Ready" "$LOGS/kubelet.log" node_ready
  wait_until 60 "the default ServiceAccount did not appear" "$LOGS/kube-controller-manager.log" default_service_account
  say "up in $((SECONDS - started)) s: node $NODE_NAME Ready; kubeconfig $ADMIN_KUBECONFIG"
}

cmd_down() {
  [[ "$(id -u)" == 0 ]] || fail "needs root"
  local started=$SECONDS name i
  # The kubelet first, so that it restarts nothing; then every container is killed through
  # containerd, so that the shims exit and the mounts are released.
  stop_daemon kube-proxy
  stop_daemon kubelet
  if daemon_pid containerd >/dev/null; then
    for name in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks kill -s SIGKILL "$name" 2>/dev/null || true; done
    for ((i = 0; i < 50; i++)); do
      [[ -n "$(ctr_k8s tasks ls 2>/dev/null | awk 'NR > 1 && $3 != "STOPPED"')" ]] || break
      sleep 0.1
    done
    for name in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks delete --force "$name" >/dev/null 2>&1 || true; done
  fi
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do stop_daemon "${DAEMONS[i]}"; done
  remove_leftovers
  local left
  left="$(leftovers)"
  [[ -z "$left" ]] || fail "down left this behind:"$'\n'"$left"
  say "down in $((SECONDS - started)) s: nothing left behind"
}

cmd_status() {
  local name pid up=1
  for name in "${DAEMONS[@]}"; do
    if pid="$(daemon_pid "$name")"; then echo "$name: running (pid $pid)"; else echo "$name: stopped"; up=0; fi
  done
  if [[ -x "$STATE/bin/kubectl" ]] && api_ready; then
    echo "api: ready at https://127.0.0.1:$API_PORT (kubeconfig $ADMIN_KUBECONFIG)"
    kubectl_admin get nodes --no-headers 2>/dev/null | sed 's/^/node: /'
  else
    echo "api: not answering"
    up=0
  fi
  ((up))
}

# Stops one of the cluster's daemons and brings it back with `up`: what a node does when, say, the
# kubelet is restarted by its supervisor.
cmd_restart() {
  local name="${1:-}"
  [[ " ${DAEMONS[*]} " == *" $name "* ]] || fail "restart needs one of: ${DAEMONS[*]}"
  daemon_pid "$name" >/dev/null || fail "$name does not run: start the cluster with '$0 up'"
  stop_daemon "$name"
  cmd_up
}

case "${1:-}" in
  up) cmd_up ;;
  restart) cmd_restart "${2:-}" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 up|down|status|restart <daemon>" >&2
    exit 2
    ;;
esac
