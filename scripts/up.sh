#!/usr/bin/env bash
# The main job: `pulumi up` of a stack (dev unless STACK says otherwise) on the project's local
# backend, creating the stack on first use. Extra arguments go to `pulumi up` (e.g. --yes).
#
#   npm run up                 # dev
#   STACK=prod npm run up -- --yes
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${STACK:-dev}"

if [[ ! -f "$ROOT/Pulumi.$STACK.yaml" ]]; then
  echo "up.sh: no stack file Pulumi.$STACK.yaml; stacks in this project: $(cd "$ROOT" && ls Pulumi.*.yaml | sed 's/Pulumi\.\(.*\)\.yaml/\1/' | tr '\n' ' ')" >&2
  exit 2
fi

"$ROOT/scripts/pulumi.sh" stack select --create --secrets-provider passphrase "$STACK" >/dev/null
exec "$ROOT/scripts/pulumi.sh" up --stack "$STACK" "$@"
