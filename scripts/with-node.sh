#!/usr/bin/env bash
# Runs a command under a Node that meets package.json "engines" (see scripts/project-node.sh:
# the node on PATH, or Node 24 provisioned from the npm registry), replacing this shell with it.
# Every npm script goes through it, as `exec scripts/with-node.sh ...`: npm runs a script with
# `sh -c`, which keeps a shell between npm and the service unless told to exec, and a signal npm
# forwards on SIGTERM or SIGINT would then stop only that shell. With exec at both steps the
# service itself is npm's child and receives the signal.
#
#   scripts/with-node.sh node services/src/server.ts
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(($#)) || {
  echo "usage: scripts/with-node.sh COMMAND [ARG...]" >&2
  exit 2
}
bin="$("$ROOT/scripts/project-node.sh")" || exit 1
export PATH="$bin:$PATH"
exec "$@"
