#!/usr/bin/env bash
# kube-apiserver on 127.0.0.1:6443 over our etcd, with kubeadm's certificates. Then the two
# RBAC bindings a full `kubeadm init` would make and we need (see rbac.yaml).
# --endpoint-reconciler-type=none: the "kubernetes" Service's endpoint would be 127.0.0.1,
# which Endpoints validation rejects (loopback), logging an error every 10 s. Nothing routes to
# Services here anyway (no kube-proxy).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${BIN_DIR:?BIN_DIR (from build-k8s.sh) is required}

ready() { https_ok https://127.0.0.1:6443/readyz; }

if pid_of kube-apiserver >/dev/null && ready >/dev/null 2>&1; then
  log "kube-apiserver: already running"
else
  stop_daemon kube-apiserver 10
  require_free_port kube-apiserver 6443
  start_daemon kube-apiserver "$BIN_DIR/kube-apiserver" \
    --advertise-address=127.0.0.1 \
    --bind-address=127.0.0.1 \
    --secure-port=6443 \
    --etcd-servers=http://127.0.0.1:2379 \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --endpoint-reconciler-type=none \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --client-ca-file="$PKI/ca.crt" \
    --tls-cert-file="$PKI/apiserver.crt" \
    --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --profiling=false
  wait_for kube-apiserver 90 ready
  log "kube-apiserver: up on https://127.0.0.1:6443"
fi

# kubeadm's admin.conf user is in group kubeadm:cluster-admins, which only a full `kubeadm init`
# binds; super-admin.conf (system:masters) makes the bindings once.
kubectl --kubeconfig "$KUBECONFIGS/super-admin.conf" apply -f "$CLUSTER_DIR/rbac.yaml" >"$LOGS/rbac.log" 2>&1 ||
  { show_log rbac; die "RBAC bindings failed"; }
