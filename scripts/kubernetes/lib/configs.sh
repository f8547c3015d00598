# Sourced by cluster.sh: the configuration files of the node's daemons, written by every `up` but
# replaced only when their content changes: kube-proxy exits when its file changes under it.

# put FILE: stdin into FILE, unless FILE already holds exactly that.
put() {
  local new
  new="$(cat)"
  [[ -f "$1" && "$(cat "$1")" == "$new" ]] && return 0
  printf '%s\n' "$new" >"$1.tmp" && mv "$1.tmp" "$1"
}

write_configs() {
  mkdir -p "$STATE/cni/net.d" "$STATE/config"

  # A containerd of the cluster's own (own socket, root and state), never Docker's.
  # restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so runc cannot lower a container's
  # oom_score_adj below its own and sandbox creation fails without it.
  put "$STATE/config/containerd.toml" <<TOML
version = 2
# Plugins a node does not use (opt installs into /opt/containerd; the snapshotters need their
# own filesystems).
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs"]
root = "$STATE/containerd"
state = "$RUN_DIR/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state under the cluster's runtime folder, not /run/containerd/runc.
        Root = "$RUN_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$STATE/cni/net.d"
    max_conf_num = 1
TOML

  # One bridge for the node's pods. The firewall plugin adds accept rules for pod traffic to the
  # FORWARD chain, whose policy Docker sets to DROP; host-local keeps its leases under $STATE.
  put "$STATE/cni/net.d/10-$CNI_NETWORK.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "firewall" },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON

  # Pods get the host's resolver: the cluster runs no DNS add-on, and resolving Service names is
  # not what its tests need (they reach Services by their cluster IP).
  # Eviction and image GC thresholds are effectively off: this node's images are loaded locally
  # and cannot be pulled again, and the machine's disk is shared with everything else on it.
  put "$STATE/config/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-server.crt
tlsPrivateKeyFile: $PKI/kubelet-server.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
failSwapOn: false
failCgroupV1: false
podLogsDir: $STATE/pod-logs
resolvConf: /etc/resolv.conf
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 50Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
registerWithTaints: []
YAML

  # kube-proxy: iptables mode. The conntrack settings of 0 leave the kernel's values alone
  # (changing them needs rights a container or a VM may not have); no localhost NodePorts, which
  # would switch on route_localnet.
  put "$STATE/config/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clientConnection:
  kubeconfig: $STATE/kube-proxy.kubeconfig
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
nodePortAddresses: [primary]
iptables:
  localhostNodePorts: false
YAML
}
