#!/usr/bin/env bash
# kube-controller-manager on loopback. --root-ca-file: without it the kube-root-ca.crt ConfigMap
# is never published and every pod hangs in ContainerCreating (projected SA token volume).
# WatchListClient=false: the apiserver finds etcd 3.4.23 too old for RequestWatchProgress, so
# each of the ~50 informers' watch-list requests fails and falls back to LIST with a warning.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${BIN_DIR:?BIN_DIR (from build-k8s.sh) is required}

ready() { https_ok_selfsigned https://127.0.0.1:10257/healthz; }

if pid_of kube-controller-manager >/dev/null && ready >/dev/null 2>&1; then
  log "kube-controller-manager: already running"
  exit 0
fi
stop_daemon kube-controller-manager 10
require_free_port kube-controller-manager 10257
kc=$KUBECONFIGS/controller-manager.conf
start_daemon kube-controller-manager "$BIN_DIR/kube-controller-manager" \
  --kubeconfig="$kc" \
  --authentication-kubeconfig="$kc" \
  --authorization-kubeconfig="$kc" \
  --bind-address=127.0.0.1 \
  --secure-port=10257 \
  --cluster-name=demon-e2e \
  --root-ca-file="$PKI/ca.crt" \
  --service-account-private-key-file="$PKI/sa.key" \
  --cluster-signing-cert-file="$PKI/ca.crt" \
  --cluster-signing-key-file="$PKI/ca.key" \
  --client-ca-file="$PKI/ca.crt" \
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
  --use-service-account-credentials=true \
  --controllers='*,bootstrapsigner,tokencleaner' \
  --allocate-node-cidrs=false \
  --leader-elect=false \
  --feature-gates=WatchListClient=false \
  --profiling=false
wait_for kube-controller-manager 60 ready
log "kube-controller-manager: up"
