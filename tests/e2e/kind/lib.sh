# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared settings for the kind lane (tests/e2e/kind). Sourced, never run.
#
# Everything built lives in one cache dir keyed by the kind, Kubernetes and Go versions:
#   $KIND_CACHE/bin/            kind, etcd, coredns, local-path-provisioner (+ .keys/)
#   $KIND_CACHE/rootfs/         Debian rootfs trees/tarballs (mmdebstrap), each with a .key
#   $KIND_CACHE/node-image      the tag of the last node image built
# Images live in docker's store, each labelled with the hash of its inputs.

KIND_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$KIND_DIR/../../.." && pwd)
CLUSTER_SCRIPTS=$REPO_ROOT/tests/e2e/cluster   # build-k8s.sh, build-crictl.sh, start-dockerd.sh

KIND_VERSION=v0.27.0
K8S_VERSION=${K8S_VERSION:-v1.32.13}
ETCD_VERSION=v3.5.24            # kubeadm 1.32.13's SupportedEtcdVersion (3.5.24-0)
ETCD_IMAGE_TAG=3.5.24-0
COREDNS_VERSION=v1.11.3         # kubeadm 1.32's CoreDNS
LOCAL_PATH_VERSION=v0.0.30      # what kind v0.27.0's storage manifest runs
PAUSE_TAG=3.10                  # kind's containerd sandbox_image
DEBIAN_SUITE=bookworm
DEBIAN_MIRRORS=(
  "deb http://deb.debian.org/debian $DEBIAN_SUITE main"
  "deb http://deb.debian.org/debian $DEBIAN_SUITE-updates main"
  "deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main"
)

CACHE_ROOT=${DEMON_E2E_CACHE:-$HOME/.cache/demon-e2e}
GO_VERSION=$(go env GOVERSION)
KIND_CACHE=$CACHE_ROOT/kind-$KIND_VERSION-k8s-$K8S_VERSION-$GO_VERSION
KIND_BIN_DIR=$KIND_CACHE/bin
KIND=$KIND_BIN_DIR/kind
K8S_BIN_DIR=$CACHE_ROOT/k8s-$K8S_VERSION-$GO_VERSION/bin   # what build-k8s.sh builds
# The harness-only `docker` (bin/docker): first on kind's PATH, see README.md.
KIND_WRAPPER_DIR=$KIND_DIR/bin

IMAGE_PREFIX=localhost/kind-offline
NODE_IMAGE_REPO=$IMAGE_PREFIX/node
KEY_LABEL=demon-e2e.kind-offline.key   # docker label: hash of an image's inputs

export DOCKER_BUILDKIT=0   # legacy builder: no buildx, no base image pulls
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# quiet CMD...: output kept aside, shown only if CMD fails (docker build's deprecation notice).
quiet() {
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  ((rc == 0)) || printf '%s\n' "$out" >&2
  return "$rc"
}

# The real docker, whatever is first on PATH except our wrapper dir (builds need no wrapper).
real_docker() {
  local d
  local IFS=:
  for d in $PATH; do
    [[ -n $d && -x $d/docker && ! -d $d/docker ]] || continue
    [[ $(cd "$d" 2>/dev/null && pwd -P) == "$(cd "$KIND_WRAPPER_DIR" && pwd -P)" ]] && continue
    echo "$d/docker"; return 0
  done
  return 1
}
