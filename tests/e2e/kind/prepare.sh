#!/usr/bin/env bash
# Gets this machine ready for `kind create cluster` and prints the environment a test needs,
# as `export` lines on stdout (logs go to stderr):
#   eval "$(tests/e2e/kind/prepare.sh)"
#   kind create cluster --image "$KIND_OFFLINE_NODE_IMAGE" --config <config with
#     networking.disableDefaultCNI: true> --kubeconfig <a file of the test's own>
# It builds the node image if its inputs changed (build-node-image.sh; seconds when warm) and
# does the host prep kind needs. Idempotent.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

node_image=$("$KIND_DIR/build-node-image.sh" | tail -n 1)
[[ $node_image == "$NODE_IMAGE_REPO:"* ]] || die "build-node-image.sh gave no image (got '$node_image')"

# kind bind-mounts /lib/modules read-only; this kernel has no modules, so it does not exist
mkdir -p /lib/modules
# every node's systemd, kubelet and containerd use inotify, and everything here runs as root
# in one user namespace: 128 instances (the default) is kind's documented "too many open files"
raise_sysctl() {
  local key=$1 want=$2 have
  have=$(sysctl -n "$key")
  if ((have < want)); then
    sysctl -qw "$key=$want" || die "cannot raise $key to $want (is $have)"
    log "raised $key from $have to $want"
  fi
}
raise_sysctl fs.inotify.max_user_instances 512
raise_sysctl fs.inotify.max_user_watches 524288

cat <<ENV
export KIND_OFFLINE_NODE_IMAGE=$node_image
export KIND_OFFLINE_KIND=$KIND
export KIND_OFFLINE_KUBECTL=$K8S_BIN_DIR/kubectl
export KIND_EXPERIMENTAL_PROVIDER=docker
export PATH="$KIND_WRAPPER_DIR:$KIND_BIN_DIR:\$PATH"
ENV
