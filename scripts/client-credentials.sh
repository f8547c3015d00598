#!/usr/bin/env bash
# Writes one client's credentials from the stack outputs into files for calls from the host:
# <dir>/tls.crt (certificate chain), <dir>/tls.key (private key), <dir>/ca.crt (CA bundle), all
# mode 0600 in a 0700 directory. The key is a secret output: it is decrypted only by this script,
# with the project's local passphrase, and never printed.
#
#   scripts/client-credentials.sh client-a                # -> .credentials/dev/client-a/
#   STACK=prod scripts/client-credentials.sh billing /secure/dir
#
# Nothing is written (not even the directory) unless the stack answers with that client's
# credentials; any problem is one line on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${STACK:-dev}"
CLIENT="${1:?usage: scripts/client-credentials.sh CLIENT [DIR]}"
DIR="${2:-$ROOT/.credentials/$STACK/$CLIENT}"

say() { echo "client-credentials: $*" >&2; }

umask 077
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
# The outputs are read into memory first (they hold the key: it goes into no file but tls.key).
if ! outputs="$("$ROOT/scripts/pulumi.sh" stack output --stack "$STACK" --show-secrets --json clientCredentials 2>"$errors")"; then
  # The CLI's own reason ("error: no stack named 'dev' found", "error: current stack does not
  # have output property 'clientCredentials'") or pulumi.sh's (no CLI), as one line.
  reason="$(grep -v '^project-node: ' "$errors" | sed -e 's/^error: //' -e '/^[[:space:]]*$/d' | tail -n1)"
  hint=""
  case "$reason" in
    *"no stack named"* | *"does not have output property"*) hint="; deploy it first: STACK=$STACK npm run up" ;;
  esac
  say "cannot read the credentials of stack $STACK (${reason:-scripts/pulumi.sh failed})$hint"
  exit 1
fi

# On stdin, not in the environment or arguments, where other processes of the user could read it.
printf '%s' "$outputs" | CLIENT="$CLIENT" DIR="$DIR" STACK="$STACK" node -e '
  const fs = require("node:fs");
  const { CLIENT, DIR, STACK } = process.env;
  const fail = (message) => {
    console.error(`client-credentials: ${message}`);
    process.exit(2);
  };
  let all;
  try {
    all = JSON.parse(fs.readFileSync(0, "utf8"));
  } catch {
    fail(`the clientCredentials output of stack ${STACK} is not JSON`);
  }
  const c = all?.[CLIENT];
  if (!c) fail(`no client "${CLIENT}" in stack ${STACK} (clients: ${Object.keys(all ?? {}).join(", ") || "none"})`);
  const files = [["tls.crt", c.certPem], ["tls.key", c.keyPem], ["ca.crt", c.caPem]];
  for (const [file, pem] of files) {
    if (typeof pem !== "string" || pem === "") fail(`client "${CLIENT}" of stack ${STACK} has no ${file} in its credentials`);
  }
  fs.mkdirSync(DIR, { recursive: true, mode: 0o700 });
  fs.chmodSync(DIR, 0o700);
  for (const [file, pem] of files) {
    fs.writeFileSync(`${DIR}/${file}`, pem, { mode: 0o600 });
    fs.chmodSync(`${DIR}/${file}`, 0o600);
  }'
echo "$DIR"
