#!/usr/bin/env bash
# Builds the Kubernetes binaries the local single-node cluster runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl) from the Go module proxy:
# no release download is needed, only `go` and the proxy. The result is cached: a second run with
# the same version prints the folder at once.
#
#   scripts/kubernetes/build.sh            # prints the folder holding the binaries
#   MTLS_K8S_VERSION=1.34.4 ...            # the version (stay on 1.34.x: see docs/KUBERNETES.md)
#   MTLS_K8S_CACHE=/var/cache/mtls-pki-k8s # where modules, the build cache and binaries live
#   MTLS_K8S_PREBUILT=<dir>                # use binaries built elsewhere (checked, not rebuilt)
set -euo pipefail

version="${MTLS_K8S_VERSION:-1.34.4}"
cache="${MTLS_K8S_CACHE:-/var/cache/mtls-pki-k8s}"
bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
say() { echo "kubernetes-build: $*" >&2; }

have_all() {
  local dir="$1" b
  for b in "${bins[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if [ -n "${MTLS_K8S_PREBUILT:-}" ]; then
  have_all "$MTLS_K8S_PREBUILT" || { say "MTLS_K8S_PREBUILT=$MTLS_K8S_PREBUILT lacks one of: ${bins[*]}"; exit 2; }
  echo "$MTLS_K8S_PREBUILT"; exit 0
fi

out="$cache/bin-v$version"
if have_all "$out"; then echo "$out"; exit 0; fi

command -v go >/dev/null || { say "needs Go (>= 1.24) on PATH to build Kubernetes v$version"; exit 2; }
export GOPATH="$cache/gopath" GOCACHE="$cache/gocache" GOFLAGS=-mod=mod CGO_ENABLED=0
mod="$cache/module-v$version"
mkdir -p "$mod" "$out.tmp"

# k8s.io/kubernetes replaces its staging modules with ./staging/...; outside its tree each must be
# pinned to the matching published v0.x.y module instead. The list is read from its own go.mod.
say "reading k8s.io/kubernetes@v$version's go.mod from the module proxy"
gomod="$(go mod download -json "k8s.io/kubernetes@v$version" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
staging_version="v0.${version#1.}"
{
  echo "module mtls-pki.local/kubernetes-build"
  echo "go 1.24.0"
  echo "require k8s.io/kubernetes v$version"
  sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging_version"'#p' "$gomod"
} >"$mod/go.mod"
cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
cd "$mod"
say "resolving modules (about 570 MB on an empty cache)"
go mod tidy -e >/dev/null 2>&1 || true
go mod download

major="${version%%.*}"; rest="${version#*.}"; minor="${rest%%.*}"
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=v$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
say "building ${bins[*]} (about 11 minutes on 2 cores on an empty build cache)"
start=$SECONDS
go build -trimpath -ldflags "-s -w$ldflags" -o "$out.tmp/" \
  $(printf 'k8s.io/kubernetes/cmd/%s ' "${bins[@]}")
rm -rf "$out" && mv "$out.tmp" "$out"
say "built in $((SECONDS - start)) s into $out"
echo "$out"
