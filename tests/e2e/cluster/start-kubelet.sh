#!/usr/bin/env bash
# The kubelet: node "127.0.0.1", cgroupfs, the private containerd, state under $STATE/kubelet.
# No --node-ip: the kubelet rejects a loopback --node-ip ("nodeIP can't be loopback address")
# and then reports no address at all, so logs and port-forward fail; a hostname override that
# is an IP is taken as the node's InternalIP without that check.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${BIN_DIR:?BIN_DIR (from build-k8s.sh) is required}

healthy() { curl -fsS --max-time 2 http://127.0.0.1:10248/healthz; }

if pid_of kubelet >/dev/null && healthy >/dev/null 2>&1; then
  log "kubelet: already running"
  exit 0
fi
stop_daemon kubelet 10
require_free_port kubelet 10250
require_free_port kubelet 10248
mkdir -p "$STATE/kubelet" "$STATE/pod-logs"
export PKI CONTAINERD_SOCK STATE
envsubst <"$CLUSTER_DIR/kubelet-config.yaml.tmpl" >"$STATE/kubelet-config.yaml"
# The kubelet merges pull secrets with any docker config it finds in $HOME/.docker, its
# working directory and / (k8s.io/kubernetes/pkg/credentialprovider). Root's docker login
# would then let every pod pull without its imagePullSecret and hide the 401 the tests
# expect, so the kubelet gets an empty home and working directory of its own.
mkdir -p "$STATE/kubelet/home"
cd "$STATE/kubelet/home"
HOME="$STATE/kubelet/home" start_daemon kubelet "$BIN_DIR/kubelet" \
  --config="$STATE/kubelet-config.yaml" \
  --kubeconfig="$KUBECONFIGS/kubelet.conf" \
  --root-dir="$STATE/kubelet" \
  --hostname-override="$NODE_NAME" \
  --v=1
wait_for kubelet 60 healthy
log "kubelet: up"
