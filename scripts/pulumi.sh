#!/usr/bin/env bash
# Runs the Pulumi CLI against this project's own local state: a file backend under .pulumi/ (no
# Pulumi Cloud account) and a generated passphrase kept in .pulumi-passphrase (mode 0600,
# git-ignored) for the passphrase secrets provider. Both stay on this machine: back them up
# together, since the state's secrets cannot be read without the passphrase.
#
#   scripts/pulumi.sh preview --stack dev
#   scripts/pulumi.sh stack output --stack dev --show-secrets
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The program runs as TypeScript through Node's type stripping, which needs Node >= 22.18.
node_ok() { node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)' 2>/dev/null; }
if ! node_ok; then
  export PATH="$("$ROOT/scripts/provision-node.sh"):$PATH"
fi

if ! command -v pulumi >/dev/null 2>&1; then
  echo "pulumi.sh: the Pulumi CLI is not on PATH; install it (https://www.pulumi.com/docs/iac/download-install/) and run again" >&2
  exit 127
fi

mkdir -p "$ROOT/.pulumi/state"
export PULUMI_BACKEND_URL="file://$ROOT/.pulumi/state"

PASSPHRASE_FILE="$ROOT/.pulumi-passphrase"
if [[ ! -s "$PASSPHRASE_FILE" ]]; then
  (umask 077 && head -c 32 /dev/urandom | base64 >"$PASSPHRASE_FILE")
  echo "pulumi.sh: generated a passphrase for this project's secrets in $PASSPHRASE_FILE (keep it with .pulumi/)" >&2
fi
chmod 600 "$PASSPHRASE_FILE"
export PULUMI_CONFIG_PASSPHRASE_FILE="$PASSPHRASE_FILE"
unset PULUMI_CONFIG_PASSPHRASE

exec pulumi "$@"
