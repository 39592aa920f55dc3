#!/usr/bin/env bash
# kube-scheduler on loopback; one instance, so no leader election.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${BIN_DIR:?BIN_DIR (from build-k8s.sh) is required}

ready() { https_ok_selfsigned https://127.0.0.1:10259/healthz; }

if pid_of kube-scheduler >/dev/null && ready >/dev/null 2>&1; then
  log "kube-scheduler: already running"
  exit 0
fi
stop_daemon kube-scheduler 10
require_free_port kube-scheduler 10259
kc=$KUBECONFIGS/scheduler.conf
start_daemon kube-scheduler "$BIN_DIR/kube-scheduler" \
  --kubeconfig="$kc" \
  --authentication-kubeconfig="$kc" \
  --authorization-kubeconfig="$kc" \
  --bind-address=127.0.0.1 \
  --secure-port=10259 \
  --leader-elect=false \
  --profiling=false
wait_for kube-scheduler 60 ready
log "kube-scheduler: up"
