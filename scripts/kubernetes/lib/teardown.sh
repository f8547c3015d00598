# Sourced by cluster.sh: what the node leaves on the machine outside the daemons themselves, how
# to list it (`leftovers`) and how to remove it (`remove_leftovers`). `down` runs both, and fails
# if the list is not empty afterwards; `up` runs them first when a cluster died without `down`.
#
# What a node leaves: processes in the pods' cgroups and the containerd shims that ran them;
# mounts (containers' root filesystems, the kubelet's volumes and its bind mount of its own root)
# under $STATE and $RUN_DIR; the pods' network namespaces (/run/netns/cni-*); iptables chains of
# kube-proxy, the kubelet and the CNI plugins (KUBE-*, CNI-*) and the jumps to them; the CNI
# bridge; the kubepods cgroups; libcni's cache entries (/var/lib/cni) and the kubelet's log links
# (/var/log/containers); the kernel settings the kubelet changes; and $STATE, $RUN_DIR.

IPTABLES_TABLES=(filter nat mangle)
KUBELET_DEVICE_PLUGIN_SOCKET=/var/lib/kubelet/device-plugins/kubelet.sock
# Kernel settings the kubelet sets at start (pkg/kubelet/cm/container_manager_linux.go,
# setupKernelTunables): recorded before the first start, put back by `down`.
KUBELET_SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops
  kernel/keys/root_maxkeys kernel/keys/root_maxbytes)

record_sysctls() {
  [[ -f "$STATE/sysctls-before" ]] && return 0
  local key
  for key in "${KUBELET_SYSCTLS[@]}"; do
    echo "$key $(cat "/proc/sys/$key")"
  done >"$STATE/sysctls-before"
}

restore_sysctls() {
  [[ -f "$STATE/sysctls-before" ]] || return 0
  local key value
  while read -r key value; do
    echo "$value" >"/proc/sys/$key" 2>/dev/null || say "could not put $key back to $value"
  done <"$STATE/sysctls-before"
}

# Pids of processes the node started that may outlive its daemons: the containers' processes
# (in the kubepods cgroups) and the shims of this cluster's containerd (named by its socket).
node_processes() {
  local procs
  for procs in /sys/fs/cgroup/*/kubepods/cgroup.procs; do
    [[ -f "$procs" ]] || continue
    find "$(dirname "$procs")" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  pgrep -f -- "-address $CONTAINERD_SOCK( |\$)" || true
}

node_mounts() {
  # Field 5 of mountinfo is the mount point; deepest first so that nested mounts go first.
  awk -v a="$STATE" -v b="$RUN_DIR" '
    index($5, a "/") == 1 || $5 == a || index($5, b "/") == 1 || $5 == b || index($5, "/run/netns/cni-") == 1 { print $5 }
  ' /proc/self/mountinfo | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- | uniq
}

node_netns() { ls /run/netns 2>/dev/null | grep '^cni-' || true; }

# "<command> <table> <chain>" for every chain of the node's in iptables and ip6tables.
node_chains() {
  local cmd table
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in "${IPTABLES_TABLES[@]}"; do
      "$cmd" -t "$table" -S 2>/dev/null | awk -v c="$cmd" -v t="$table" \
        '$1 == "-N" && ($2 ~ /^KUBE-/ || $2 ~ /^CNI-/) { print c, t, $2 }'
    done
  done
}

node_cgroups() { ls -d /sys/fs/cgroup/*/kubepods 2>/dev/null || true; }

node_files() {
  local path
  for path in "$STATE" "$RUN_DIR"; do [[ -e "$path" ]] && echo "$path"; done
  # libcni's cache: one entry per pod for the node's network and for the loopback one.
  ls -d /var/lib/cni/results/{"$CNI_NETWORK",cni-loopback}-* 2>/dev/null || true
  find /var/log/containers -maxdepth 1 -lname "$STATE/*" 2>/dev/null || true
  # The kubelet's device-plugin socket, whose folder is fixed (k8s.io/kubelet/pkg/apis/deviceplugin:
  # DevicePluginPath), not under its --root-dir.
  ls "$KUBELET_DEVICE_PLUGIN_SOCKET" 2>/dev/null || true
}

# Everything above, one line each ("<kind>: <what>"); empty when the machine is clean. The
# folders themselves are left out while the cluster is meant to exist (`status`).
leftovers() {
  local pid
  for pid in $(node_processes | sort -u); do echo "process: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100)"; done
  node_mounts | sed 's/^/mount: /'
  node_netns | sed 's/^/netns: /'
  node_chains | sed 's/^/iptables chain: /'
  ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && echo "bridge: $CNI_BRIDGE"
  [[ -n "$(ip route show type unreachable exact "$SERVICE_CIDR")" ]] && echo "route: unreachable $SERVICE_CIDR"
  node_cgroups | sed 's/^/cgroup: /'
  [[ "${1:-}" == --without-files ]] || node_files | sed 's/^/file: /'
}

# Removes the jumps into the node's chains from the other chains (built-in ones, Docker's), then
# empties and deletes the node's chains: one `iptables-restore --noflush` transaction per table,
# which changes nothing else (one command per rule takes seconds with dozens of chains). Should a
# transaction be refused, the same is done one command at a time.
remove_chains() {
  local cmd table batch line
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in "${IPTABLES_TABLES[@]}"; do
      batch="$("$cmd" -t "$table" -S 2>/dev/null | awk '
        $1 == "-A" && $2 !~ /^(KUBE|CNI)-/ && / -j (KUBE|CNI)-/ { sub(/^-A /, "-D "); jumps = jumps $0 "\n" }
        $1 == "-N" && $2 ~ /^(KUBE|CNI)-/ { flush = flush "-F " $2 "\n"; drop = drop "-X " $2 "\n" }
        END { printf "%s%s%s", jumps, flush, drop }')"
      [[ -n "$batch" ]] || continue
      printf '*%s\n%s\nCOMMIT\n' "$table" "$batch" | "${cmd}-restore" --noflush 2>/dev/null && continue
      while read -r line; do
        eval "\"$cmd\" -t \"$table\" $line" 2>/dev/null || true
      done <<<"$batch"
    done
  done
}

# /run/netns must be a shared mount before the first pod's network namespace is mounted in it
# (cluster.sh makes it one, as `ip netns add` does). Where it became one only later, the mounts made
# before are hidden beneath it: a path in /run/netns reaches the new mount, so they can neither be
# unmounted nor their files removed (EBUSY), and containerd keeps failing to remove them. Moving
# /run/netns aside for a moment uncovers them; then it is moved back.
reach_shadowed_netns() {
  local mount aside netns_parent
  mountpoint -q /run/netns 2>/dev/null || return 0
  # A hidden one is listed with the /run/netns mount's parent as its own parent.
  netns_parent="$(awk '$5 == "/run/netns" { print $2 }' /proc/self/mountinfo | tail -n1)"
  awk -v p="$netns_parent" '$2 == p && index($5, "/run/netns/cni-") == 1 { found = 1 } END { exit !found }' \
    /proc/self/mountinfo || return 0
  aside="$(mktemp -d)"
  if mount --move /run/netns "$aside"; then
    while read -r mount; do
      umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null || true
      rm -f "$mount"
    done < <(awk 'index($5, "/run/netns/cni-") == 1 { print $5 }' /proc/self/mountinfo)
    mount --move "$aside" /run/netns || say "could not move /run/netns back from $aside"
  fi
  rmdir "$aside" 2>/dev/null || true
}

remove_cgroups() {
  local root
  for root in $(node_cgroups); do
    # Children before parents: a cgroup can only be removed when it has none.
    find "$root" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

remove_leftovers() {
  local pid mount ns path try
  for try in 1 2 3; do
    for pid in $(node_processes | sort -u); do kill -KILL "$pid" 2>/dev/null || true; done
    [[ -z "$(node_processes)" ]] && break
    sleep 0.5
  done
  while read -r mount; do
    [[ -n "$mount" ]] && { umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null || true; }
  done < <(node_mounts)
  reach_shadowed_netns
  for ns in $(node_netns); do
    umount "/run/netns/$ns" 2>/dev/null || true
    rm -f "/run/netns/$ns"
  done
  if [[ -f "$STATE/netns-folder-mounted" ]] && ! awk '$5 ~ "^/run/netns/" { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    umount -n /run/netns 2>/dev/null || true
  fi
  remove_chains
  ip link delete "$CNI_BRIDGE" 2>/dev/null || true
  ip route del unreachable "$SERVICE_CIDR" 2>/dev/null || true
  remove_cgroups
  restore_sysctls
  rm -f /var/lib/cni/results/{"$CNI_NETWORK",cni-loopback}-*
  find /var/log/containers -maxdepth 1 -lname "$STATE/*" -delete 2>/dev/null || true
  for path in "$STATE" "$RUN_DIR"; do
    case "$path" in /?*/?*) rm -rf "$path" ;; *) say "not removing $path: not a folder of its own" ;; esac
  done
  rm -f "$KUBELET_DEVICE_PLUGIN_SOCKET"
  # Folders libcni, containerd and the kubelet made for the node, if nothing else uses them.
  for path in /var/lib/cni/results /var/lib/cni /var/log/containers /run/netns \
    /var/lib/kubelet/device-plugins /var/lib/kubelet; do
    rmdir "$path" 2>/dev/null || true
  done
}
