#!/usr/bin/env bash
# Prints the bin directory of a Node that meets package.json "engines" (the program and services
# run as TypeScript through Node's type stripping, which older Nodes lack): the `node` on PATH
# when it is recent enough, otherwise Node 24 from the npm registry (scripts/provision-node.sh,
# into .tools/node, fetched once). When neither works it fails with one line saying what to do.
#
#   export PATH="$(scripts/project-node.sh):$PATH"
#
# scripts/with-node.sh wraps every npm script with this, so `npm test`, `npm run server` and the
# others behave the same under an old system Node as under a current one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The floor is read from package.json, so that "engines" stays the one place that states it.
floor="$(sed -n 's/^ *"node": *">= *\([0-9][0-9.]*\)".*/\1/p' "$ROOT/package.json" | head -n1)"
if [[ ! "$floor" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "project-node: cannot read the Node floor from package.json (expected \"engines\": { \"node\": \">=X.Y.Z\" })" >&2
  exit 1
fi

# at_least vA.B.C X.Y.Z: is version A.B.C >= X.Y.Z?
at_least() {
  local IFS=.
  local -a have want
  read -r -a have <<<"${1#v}"
  read -r -a want <<<"$2"
  for i in 0 1 2; do
    local h="${have[i]%%[!0-9]*}"
    ((${h:-0} > want[i])) && return 0
    ((${h:-0} < want[i])) && return 1
  done
  return 0
}

current="$(node --version 2>/dev/null || true)"
if [[ -n "$current" ]] && at_least "$current" "$floor"; then
  dirname "$(command -v node)"
  exit 0
fi

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
if bin="$("$ROOT/scripts/provision-node.sh" 2>"$errors")"; then
  fetched=""
  grep -q '^provision-node: installed' "$errors" && fetched=" (just fetched from the npm registry)"
  echo "project-node: node ${current:-(none on PATH)} is older than package.json's engines (>=$floor): using Node $("$bin/node" --version) from .tools/node$fetched" >&2
  echo "$bin"
  exit 0
fi
reason="$(sed -n 's/^provision-node: //p' "$errors" | tail -n1)"
echo "project-node: this project needs Node >=$floor but node on PATH is ${current:-missing}, and Node ${NODE_MAJOR:-24} could not be provisioned (${reason:-scripts/provision-node.sh failed}): put Node >=$floor first on PATH, or run scripts/provision-node.sh once the npm registry is reachable" >&2
exit 1
