#!/usr/bin/env bash
# Runs the Pulumi CLI against this project's own local state: a file backend under .pulumi/ (no
# Pulumi Cloud account) and a generated passphrase kept in .pulumi-passphrase (mode 0600,
# git-ignored) for the passphrase secrets provider. Both stay on your machine: back them up
# together, since the state's secrets cannot be read without the passphrase.
#
#   scripts/pulumi.sh preview --stack dev
#   scripts/pulumi.sh stack output --stack dev --show-secrets
#
# Which CLI: a `pulumi` on PATH if there is one; otherwise the one the `pulumi` npm package (a dev
# dependency) manages: the CLI of the package's version (or $PULUMI_VERSION) in
# $PULUMI_HOME/versions/<version>/bin (default ~/.pulumi), downloaded by the package from
# get.pulumi.com on first use. Without internet access that download fails; place the CLI in that
# folder yourself (README, "Offline").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { echo "pulumi.sh: $*" >&2; }

# The program runs as TypeScript through Node's type stripping: Pulumi's Node language host runs it
# with the first `node` on PATH, which must meet package.json's engines.
PATH="$("$ROOT/scripts/project-node.sh"):$PATH" || exit 1
export PATH

PACKAGE_LAUNCHER="$ROOT/node_modules/.bin/pulumi"

# A CLI on PATH, not counting the package's launcher (npm puts node_modules/.bin on PATH for its
# scripts, so inside `npm run up` the launcher would otherwise always come first).
cli_on_path() {
  local candidate
  while read -r candidate; do
    [[ "$(readlink -f "$candidate")" == */node_modules/pulumi/run.js ]] && continue
    echo "$candidate"
    return 0
  done < <(type -ap pulumi)
  return 1
}

# The CLI the npm package manages, downloading it on first use. Mirrors the package's own lookup
# (pulumi/lib/resolve.js and cache.js of the pinned version): $PULUMI_VERSION or the package's
# version, under $PULUMI_HOME or ~/.pulumi, in versions/<version>/bin.
package_cli() {
  local version home dir
  version="${PULUMI_VERSION:-$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$ROOT/node_modules/pulumi/package.json" | head -n1)}"
  home="${PULUMI_HOME:-$HOME/.pulumi}"
  dir="$home/versions/$version/bin"
  if [[ ! -x "$dir/pulumi" || ! -s "$dir/pulumi" ]]; then
    local log
    log="$(mktemp)"
    # First use: `pulumi version` through the package's launcher, which downloads the CLI from
    # get.pulumi.com (its install script) and then runs it once. Its output is kept for the reason.
    if ! "$PACKAGE_LAUNCHER" version >"$log" 2>&1; then
      local reason
      reason="$(grep -v '^Downloading pulumi' "$log" | sed -e 's/^pulumi: //' -e '/^[[:space:]]*$/d' | tail -n1)"
      rm -f "$log"
      say "could not download the Pulumi CLI v$version from get.pulumi.com (${reason:-download failed}); without internet access, place the CLI in $dir yourself (README: Offline), or put a pulumi on PATH"
      exit 1
    fi
    rm -f "$log"
    say "installed the Pulumi CLI v$version into $dir"
  fi
  echo "$dir/pulumi"
}

if ! PULUMI="$(cli_on_path)"; then
  if [[ ! -e "$PACKAGE_LAUNCHER" ]]; then
    say "no Pulumi CLI: run 'npm ci' first (it installs the 'pulumi' npm package, which fetches the CLI on first use), or put a pulumi on PATH"
    exit 127
  fi
  PULUMI="$(package_cli)" || exit 1
  # As the package's launcher does: the language hosts (pulumi-language-nodejs) sit next to the CLI.
  PATH="$(dirname "$PULUMI"):$PATH"
fi

mkdir -p "$ROOT/.pulumi/state"
export PULUMI_BACKEND_URL="file://$ROOT/.pulumi/state"

PASSPHRASE_FILE="$ROOT/.pulumi-passphrase"
if [[ ! -s "$PASSPHRASE_FILE" ]]; then
  (umask 077 && head -c 32 /dev/urandom | base64 >"$PASSPHRASE_FILE")
  say "generated a passphrase for this project's secrets in $PASSPHRASE_FILE (keep it with .pulumi/)"
fi
chmod 600 "$PASSPHRASE_FILE"
export PULUMI_CONFIG_PASSPHRASE_FILE="$PASSPHRASE_FILE"
unset PULUMI_CONFIG_PASSPHRASE

exec "$PULUMI" "$@"
