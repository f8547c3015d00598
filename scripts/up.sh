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

# Pulumi keeps the passphrase provider's salt (with a check value encrypted by the passphrase) in
# the stack file as `encryptionsalt:`. One without this stack in the project's state was made with
# another passphrase (another machine's, or one whose state is gone): the CLI would refuse it with
# "incorrect passphrase". Say what to do instead, before anything is created.
if grep -q '^encryptionsalt:' "$ROOT/Pulumi.$STACK.yaml" &&
  [[ -z "$(find "$ROOT/.pulumi/state/.pulumi/stacks" -name "$STACK.json*" 2>/dev/null | head -n1)" ]]; then
  echo "up.sh: Pulumi.$STACK.yaml has an encryptionsalt: line but this project's state (.pulumi/) has no $STACK stack, so the salt belongs to another passphrase: delete that line (it is per machine, not part of the project) and run again" >&2
  exit 2
fi

# A stack that runs on Docker Swarm needs the local engine to be a swarm manager (one node is fine).
if grep -Eq '^ *mtls-pki:runtime: *"?swarm"?' "$ROOT/Pulumi.$STACK.yaml"; then
  "$ROOT/scripts/swarm-init.sh"
fi

"$ROOT/scripts/pulumi.sh" stack select --create --secrets-provider passphrase "$STACK" >/dev/null
exec "$ROOT/scripts/pulumi.sh" up --stack "$STACK" "$@"
