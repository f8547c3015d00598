#!/usr/bin/env bash
# Builds the local base image `mtls-node-base:<major>` from a local Node binary, for machines that
# reach no container registry (air-gapped hosts, CI without registry access): the service image's Dockerfile defaults to
# the official `node:24-slim`, and the tests pass `--build-arg BASE_IMAGE=mtls-node-base:24` instead.
#
#   scripts/build-base-image.sh     # idempotent; prints the image name on stdout
#
# The image is a minimal root filesystem made with `docker import`: the Node binary at
# /usr/local/bin/node (where the official image has it), the shared libraries it links (from ldd),
# an /etc/passwd and /etc/group with root and nobody only, and a world-writable /tmp. No shell, no
# package manager, no CA certificates (the services trust only the CA bundle they are given).
# It is skipped when an image of that name already carries the same Node version label.
#
# NODE_BIN overrides the binary (default: the one scripts/provision-node.sh installs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_BIN="${NODE_BIN:-$("$ROOT/scripts/provision-node.sh")/node}"
VERSION_LABEL="io.github.mtls-pki.node-version"

say() { echo "build-base-image: $*" >&2; }

[[ -x "$NODE_BIN" ]] || {
  say "ERROR: no executable Node binary at $NODE_BIN"
  exit 1
}
version="$("$NODE_BIN" --version)" # e.g. v24.22.3
major="${version#v}"
major="${major%%.*}"
image="mtls-node-base:$major"

existing="$(docker image inspect --format "{{ index .Config.Labels \"$VERSION_LABEL\" }}" "$image" 2>/dev/null || true)"
if [[ "$existing" == "$version" ]]; then
  say "$image already holds Node $version"
  echo "$image"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT

install -D -m 0755 "$NODE_BIN" "$rootfs/usr/local/bin/node"
# Every library the dynamic loader resolves for node, including the loader itself, copied (symlinks
# dereferenced) to the path ldd reports, so the loader finds each where the binary expects it.
while read -r lib; do
  install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
done < <(ldd "$NODE_BIN" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u)

mkdir -p "$rootfs/etc" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
# glibc's default without this file would try DNS before /etc/hosts.
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
  docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["node"]' \
    --change "LABEL $VERSION_LABEL=$version" \
    --change 'LABEL org.opencontainers.image.title=mtls-node-base' \
    --change "LABEL org.opencontainers.image.description=\"Node $version and the libraries it links, no shell\"" \
    - "$image" >/dev/null

# Smoke test: the binary runs in the image (catches a missing library at build time, not in a test).
docker run --rm --network none "$image" node -e 'process.stdout.write(process.version)' | grep -qx "$version" || {
  say "ERROR: $image does not run node $version"
  exit 1
}
say "built $image ($(docker image inspect --format '{{.Size}}' "$image") bytes) with Node $version"
echo "$image"
