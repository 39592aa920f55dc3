#!/usr/bin/env bash
# npm run cluster:up — a real single-node Kubernetes on 127.0.0.1 for the e2e tests.
# Idempotent: every step checks its own component first, and a cluster that is already up is
# reported as such in a second or two. Writes $STATE/env.sh (see README.md) for the tests.
set -euo pipefail
started=$SECONDS
source "$(dirname "$0")/lib.sh"
cd "$CLUSTER_DIR"

node_ready() {
  kubectl_admin get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -x True >/dev/null
}
all_up() {
  local d
  for d in registry containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet; do
    pid_of "$d" >/dev/null || return 1
  done
  [[ -f $STATE/env.sh ]] && timeout 10 "$DOCKER" info >/dev/null 2>&1 && node_ready
}

if all_up; then
  log "cluster already up (context $CONTEXT); source $STATE/env.sh"
  log "up: done in $((SECONDS - started))s"
  exit 0
fi

mkdir -p "$STATE" "$LOGS" "$PIDS"
chmod 700 "$STATE"

./install-packages.sh
BIN_DIR=$(./build-k8s.sh | tail -n 1)
[[ -x $BIN_DIR/kube-apiserver ]] || die "build-k8s.sh gave no binaries (got '$BIN_DIR')"
export BIN_DIR
./build-crictl.sh >/dev/null   # for down.sh's CRI teardown and for poking at the node

./start-dockerd.sh
./start-registry.sh
./start-containerd.sh
./build-pause-image.sh
./make-certs.sh
./start-etcd.sh
./start-apiserver.sh
./start-controller-manager.sh
./start-scheduler.sh
./start-kubelet.sh

# The tests' kubeconfig: kubeadm's admin.conf with the context renamed to a stable name.
if ! kubectl_admin config current-context >/dev/null 2>&1; then
  install -m 600 "$KUBECONFIGS/admin.conf" "$ADMIN_KUBECONFIG"
  kubectl --kubeconfig "$ADMIN_KUBECONFIG" config rename-context \
    "$(kubectl --kubeconfig "$ADMIN_KUBECONFIG" config current-context)" "$CONTEXT" >/dev/null
fi

log "waiting for node $NODE_NAME to be Ready"
# the node object appears a moment after the kubelet starts: wait for it, then for Ready
wait_for kubelet 60 kubectl_admin get node "$NODE_NAME"
if ! kubectl_admin wait node --all --for=condition=Ready --timeout=120s >/dev/null; then
  kubectl_admin describe node "$NODE_NAME" | tail -n 30 >&2 || true
  show_log kubelet
  die "node $NODE_NAME not Ready after 120s"
fi

# A pod is refused until its namespace's "default" ServiceAccount exists; make sure the
# controller-manager has made it for "default" before calling the cluster up.
wait_for kube-controller-manager 30 kubectl_admin -n default get serviceaccount default

cat >"$STATE/env.sh" <<ENV
# Written by tests/e2e/cluster/up.sh: source it before the e2e tests. No secrets in here.
export DEMON_E2E_STATE=$STATE
export KUBECONFIG=$ADMIN_KUBECONFIG
export DEMON_E2E_CONTEXT=$CONTEXT
export DEMON_E2E_REGISTRY=$REGISTRY_ADDR
export DEMON_E2E_REGISTRY_USER=$REGISTRY_USER
export DEMON_E2E_REGISTRY_PASSWORD_FILE=$STATE/registry/password
ENV

log "cluster up: context $CONTEXT, node $NODE_NAME Ready ($(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.nodeInfo.kubeletVersion}'))"
log "source $STATE/env.sh"
log "up: done in $((SECONDS - started))s"
