#!/usr/bin/env bash
# Copies an image from the local Docker engine into the local cluster's containerd (namespace
# k8s.io, the one the kubelet uses), so that pods can run it with `imagePullPolicy: Never`: the
# cluster pulls nothing.
#
#   scripts/kubernetes/load-image.sh <image ref>    # e.g. mtls-node-base:24
#
# The name inside the cluster is the reference as Docker normalises it (mtls-node-base:24 is
# docker.io/library/mtls-node-base:24), which is what the kubelet looks up for `image:
# mtls-node-base:24`. Importing an image that is already there again is harmless and quick.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"

ref="${1:-}"
[[ -n "$ref" && $# -eq 1 ]] || {
  echo "usage: $0 <docker image ref>" >&2
  exit 2
}
[[ -S "$CONTAINERD_SOCK" ]] || fail "no cluster containerd at $CONTAINERD_SOCK: start the cluster with scripts/kubernetes/cluster.sh up"
docker image inspect "$ref" >/dev/null 2>&1 || fail "image $ref is not in the local Docker engine (docker image ls)"

# pipefail: a failed `docker save` fails the import instead of importing a truncated stream.
docker save "$ref" | ctr_k8s images import - >/dev/null ||
  fail "importing $ref into the cluster's containerd failed"
say "loaded $ref"
