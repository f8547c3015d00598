# Sourced by cluster.sh: the sandbox image ($PAUSE_IMAGE) every pod starts with, built from
# pause/pause.go and imported into the cluster's containerd. No registry is involved: the image is
# written as an OCI image layout (one layer holding /pause) and imported with `ctr images import`.

# The list is read whole first: `grep -q` stopping early would fail ctr with SIGPIPE (pipefail).
pause_image_present() {
  local images
  images="$(ctr_k8s images ls -q 2>/dev/null)" && grep -qxF "$PAUSE_IMAGE" <<<"$images"
}

# A subshell, so that its EXIT trap removes the work folder however it ends.
import_pause_image() (
  pause_image_present && exit 0
  command -v go >/dev/null || fail "needs Go on PATH to build the pause image (scripts/kubernetes/pause)"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
  (cd "$HERE/pause" && CGO_ENABLED=0 GOFLAGS= GOCACHE="${MTLS_K8S_CACHE:-/var/cache/mtls-pki-k8s}/gocache" \
    go build -trimpath -ldflags "-s -w" -o "$work/rootfs/pause" pause.go) ||
    fail "building scripts/kubernetes/pause/pause.go failed"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/rootfs" -cf "$work/layer.tar" pause

  blob() { # blob FILE -> stores it under its digest, prints "<sha256> <size>"
    local sum size
    sum="$(sha256sum "$1" | cut -d' ' -f1)"
    size="$(stat -c %s "$1")"
    cp "$1" "$work/oci/blobs/sha256/$sum"
    echo "$sum $size"
  }
  local layer config manifest
  read -r layer layer_size < <(blob "$work/layer.tar")
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$layer" >"$work/config.json"
  read -r config config_size < <(blob "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
  read -r manifest manifest_size < <(blob "$work/manifest.json")
  # io.containerd.image.name: the name `ctr images import` gives the image.
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$PAUSE_IMAGE" >"$work/oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  tar -C "$work/oci" -cf "$work/pause.tar" oci-layout index.json blobs
  ctr_k8s images import "$work/pause.tar" >/dev/null || fail "importing the pause image into containerd failed"
  pause_image_present || fail "the pause image is not in containerd after importing it"
)
