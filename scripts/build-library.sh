#!/usr/bin/env bash
# The library build (`npm run build`, and `npm pack` through prepack): tsc emits JavaScript and
# .d.ts for components/index.ts and everything it imports into dist/ (tsconfig.build.json), then
# the components' non-TypeScript files (e.g. a Dockerfile a component builds from) are copied next
# to their compiled modules, where the modules look for them. Starts from an empty dist/, so no
# file of an earlier build is packed. Says what it wrote in one line (on stderr, so that the JSON
# report of `npm pack --json` stays alone on stdout).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rm -rf dist
tsc -p tsconfig.build.json
find components -type f ! -name '*.ts' -print0 | while IFS= read -r -d '' asset; do
  mkdir -p "dist/$(dirname "$asset")"
  cp -p "$asset" "dist/$asset"
done
modules="$(find dist -name '*.js' | wc -l)"
echo "build-library: wrote dist/ ($modules JavaScript modules with their .d.ts declarations; entry dist/components/index.js)" >&2
