#!/usr/bin/env bash
# Makes the local Docker engine a single-node swarm manager, for stacks with
# mtls-pki:runtime swarm and for the swarm tests. Idempotent; prints one line saying what it found
# or did.
#
#   scripts/swarm-init.sh                          # advertises 127.0.0.1
#   SWARM_ADVERTISE_ADDR=10.0.0.5 scripts/swarm-init.sh
#
# - Already a swarm manager: nothing is touched.
# - Not in a swarm: `docker swarm init --advertise-addr $SWARM_ADVERTISE_ADDR` (default 127.0.0.1,
#   so the swarm's ports listen on loopback only and no other machine can join). This does not
#   disturb running containers.
# - A swarm worker, or a node whose swarm membership is pending or broken: it fails and says what
#   to do; it never leaves a swarm on its own (that would remove the swarm's services and secrets).
set -euo pipefail

ADVERTISE="${SWARM_ADVERTISE_ADDR:-127.0.0.1}"
say() { echo "swarm-init: $*" >&2; }

if ! state="$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>&1)"; then
  say "ERROR: no Docker engine answers ($state); start one with scripts/docker-engine.sh"
  exit 1
fi

case "$state" in
  "active true")
    say "the Docker engine is already a swarm manager"
    ;;
  "inactive "*)
    if ! out="$(docker swarm init --advertise-addr "$ADVERTISE" 2>&1)"; then
      say "ERROR: docker swarm init --advertise-addr $ADVERTISE failed: $out"
      exit 1
    fi
    say "the Docker engine is now a single-node swarm manager (advertising $ADVERTISE)"
    ;;
  "active false")
    say "ERROR: the Docker engine is a swarm worker; run on a manager node, or promote this one there with: docker node promote <this node>"
    exit 1
    ;;
  *)
    say "ERROR: the Docker engine's swarm state is \"$state\"; fix it (docker info shows why), or leave that swarm with docker swarm leave and run this again"
    exit 1
    ;;
esac
