#!/usr/bin/env bash
# Writes one client's credentials from the stack outputs into files for calls from the host:
# <dir>/tls.crt (certificate chain), <dir>/tls.key (private key), <dir>/ca.crt (CA bundle), all
# mode 0600 in a 0700 directory. The key is a secret output: it is decrypted only here, with the
# project's local passphrase, and never printed.
#
#   scripts/client-credentials.sh client-a                # -> .credentials/dev/client-a/
#   STACK=prod scripts/client-credentials.sh billing /secure/dir
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${STACK:-dev}"
CLIENT="${1:?usage: scripts/client-credentials.sh CLIENT [DIR]}"
DIR="${2:-$ROOT/.credentials/$STACK/$CLIENT}"

umask 077
mkdir -p "$DIR"
chmod 700 "$DIR"
"$ROOT/scripts/pulumi.sh" stack output --stack "$STACK" --show-secrets --json clientCredentials |
  CLIENT="$CLIENT" DIR="$DIR" node -e '
    const fs = require("node:fs");
    const all = JSON.parse(fs.readFileSync(0, "utf8"));
    const c = all[process.env.CLIENT];
    if (!c) {
      console.error(`client-credentials: no client "${process.env.CLIENT}" in this stack (clients: ${Object.keys(all).join(", ")})`);
      process.exit(2);
    }
    for (const [file, pem] of [["tls.crt", c.certPem], ["tls.key", c.keyPem], ["ca.crt", c.caPem]]) {
      fs.writeFileSync(`${process.env.DIR}/${file}`, pem, { mode: 0o600 });
      fs.chmodSync(`${process.env.DIR}/${file}`, 0o600);
    }'
echo "$DIR"
