#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, for the Docker tests and for `pulumi up`.
#
#   scripts/docker-engine.sh        # idempotent; prints one line saying what it found or did
#
# - If an engine already answers (`docker info`), nothing is touched: a daemon run by systemd, by
#   Docker Desktop or by a previous call of this script is used as it is.
# - If `dockerd` is missing, installs Debian's `docker.io` with apt-get (needs root).
# - Otherwise starts `dockerd` in the background (needs root), logs to $DOCKERD_LOG, and waits up to
#   $DOCKERD_TIMEOUT seconds for it to answer. It never stops a daemon; only if the daemon it started
#   itself fails to come up in time does it stop that one process (by its pid) before failing.
#
# Storage driver: dockerd picks one itself (overlay2 where the backing filesystem supports it, else
# fuse-overlayfs or vfs). On an ext4-backed host overlay2 works, including read-only root
# filesystems, named volumes and uploads into created containers, so nothing is pinned. Where overlay2 cannot work (e.g. a CI job that itself runs in a container on an
# overlay filesystem), dockerd falls back on its own; set DOCKER_STORAGE_DRIVER=vfs to force a driver
# if that fallback misbehaves.
set -euo pipefail

LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
TIMEOUT="${DOCKERD_TIMEOUT:-60}"
STORAGE_DRIVER="${DOCKER_STORAGE_DRIVER:-}"
# Extra dockerd flags for unusual hosts, e.g. DOCKERD_EXTRA_ARGS="--iptables=false" where the
# kernel offers no netfilter (published ports then go through docker-proxy only).
read -r -a EXTRA_ARGS <<<"${DOCKERD_EXTRA_ARGS:-}"

say() { echo "docker-engine: $*" >&2; }
fail() {
  say "ERROR: $*"
  exit 1
}
engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
  say "engine already answers ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  fail "no Docker engine answers and starting one needs root; start Docker yourself (e.g. 'sudo systemctl start docker') or run this script as root"
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "dockerd not found: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  # On a machine with systemd the package starts the daemon itself.
  if engine_answers; then
    say "engine answers after installing docker.io"
    exit 0
  fi
fi

args=()
if [[ -n "$STORAGE_DRIVER" ]]; then args+=("--storage-driver=$STORAGE_DRIVER"); fi
args+=("${EXTRA_ARGS[@]}")

mkdir -p "$(dirname "$LOG")"
say "starting dockerd ${args[*]:-} (log: $LOG)"
# setsid: the daemon must outlive this script and not receive the caller's terminal signals.
setsid dockerd "${args[@]}" >>"$LOG" 2>&1 </dev/null &
pid=$!

deadline=$((SECONDS + TIMEOUT))
until engine_answers; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 20 "$LOG" >&2 || true
    fail "dockerd (pid $pid) exited before answering; see $LOG"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 20 "$LOG" >&2 || true
    kill "$pid" 2>/dev/null || true
    fail "dockerd (pid $pid) did not answer 'docker info' within ${TIMEOUT}s; stopped it; see $LOG"
  fi
  sleep 0.5
done
say "engine answers (pid $pid, $(docker info --format 'storage driver {{.Driver}}' 2>/dev/null))"
