#!/usr/bin/env bash
# Certificates and kubeconfigs for every component, made by kubeadm's own phases (the same
# layout kubeadm clusters have) from kubeadm.yaml.tmpl. Only the phases: no preflight, no
# kubelet install, no static pods. The version is pinned so kubeadm never asks the network.
# Made once per state dir; `kubeadm` skips files that already exist.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${BIN_DIR:?BIN_DIR (from build-k8s.sh) is required}

done_marker=$STATE/pki/.complete
if [[ -f $done_marker ]]; then
  log "certs: already made"
  exit 0
fi
mkdir -p "$PKI" "$KUBECONFIGS"
# the first address of the pod subnet: the CNI bridge's gateway (see kubeadm.yaml.tmpl)
KUBEADM_ADVERTISE_ADDRESS=${POD_CIDR%.*/*}.1
export STATE PKI K8S_VERSION NODE_NAME POD_CIDR SERVICE_CIDR CONTAINERD_SOCK KUBEADM_ADVERTISE_ADDRESS
envsubst <"$CLUSTER_DIR/kubeadm.yaml.tmpl" >"$STATE/kubeadm.yaml"
log "certs: kubeadm init phase certs/kubeconfig"
"$BIN_DIR/kubeadm" init phase certs all --config "$STATE/kubeadm.yaml" >"$LOGS/kubeadm.log" 2>&1 ||
  { show_log kubeadm; die "kubeadm certs failed"; }
"$BIN_DIR/kubeadm" init phase kubeconfig all --config "$STATE/kubeadm.yaml" \
  --kubeconfig-dir "$KUBECONFIGS" >>"$LOGS/kubeadm.log" 2>&1 ||
  { show_log kubeadm; die "kubeadm kubeconfig failed"; }
# controller-manager.conf and scheduler.conf point at the advertise address: everything talks
# to the apiserver on loopback, which its certificate covers (certSANs).
for kc in "$KUBECONFIGS"/*.conf; do
  cluster=$(kubectl --kubeconfig "$kc" config view -o jsonpath='{.clusters[0].name}')
  kubectl --kubeconfig "$kc" config set-cluster "$cluster" --server=https://127.0.0.1:6443 >/dev/null
done
chmod 600 "$PKI"/*.key "$KUBECONFIGS"/*.conf
touch "$done_marker"
