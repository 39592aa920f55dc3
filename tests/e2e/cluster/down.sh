#!/usr/bin/env bash
# npm run cluster:down — stops everything up.sh started, in reverse order, removes the pods'
# containers, network namespaces, bridge and iptables rules, unmounts what is mounted under the
# state dir, removes the state dir, and checks that no process of ours is left.
# Idempotent: with nothing up it only checks, and says so.
set -euo pipefail
started=$SECONDS
source "$(dirname "$0")/lib.sh"
cd "$CLUSTER_DIR"

RUNC_ROOT=$CONTAINERD_DIR/runc/k8s.io
TASKS=$CONTAINERD_DIR/state/io.containerd.runtime.v2.task/k8s.io

if [[ ! -d $STATE ]] && ! ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
  log "cluster already down ($STATE absent)"
fi

# 1. the kubelet first, so it does not restart the pods we remove
stop_daemon kubelet 20

# 2. pods: the network namespaces of every sandbox (from their OCI bundles, before they go),
#    then a proper CRI teardown (CNI DEL: veth, IP lease, portmap rules), then a sweep.
netns_paths=()
if [[ -d $TASKS ]]; then
  mapfile -t netns_paths < <(cat "$TASKS"/*/config.json 2>/dev/null |
    jq -r '.linux.namespaces[]? | select(.type == "network") | .path // empty' | sort -u)
fi
if pid_of containerd >/dev/null; then
  "$CLUSTER_DIR/remove-pods.sh" || log "pod removal through containerd incomplete; sweeping"
fi

# 3. the control plane and its store
stop_daemon kube-scheduler 10
stop_daemon kube-controller-manager 10
stop_daemon kube-apiserver 20
stop_daemon etcd 15
stop_daemon containerd 15

# 4. whatever survived containerd: containers still known to our runc root, then our shims
if [[ -d $RUNC_ROOT ]]; then
  for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
    runc --root "$RUNC_ROOT" kill "$id" KILL 2>/dev/null || true
    runc --root "$RUNC_ROOT" delete -f "$id" 2>/dev/null || true
  done
fi
for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true); do
  kill -KILL "$pid" 2>/dev/null || true
done
# kubectl port-forwards to this cluster (probe.sh's, or ones a test left): ours by KUBECONFIG
for pid in $(pgrep -f 'kubectl.* port-forward' || true); do
  if grep -qF "$ADMIN_KUBECONFIG" "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
  fi
done

# 5. mounts: pod netns bind mounts, then everything under the state dir, deepest first
for ns in "${netns_paths[@]}"; do
  [[ $ns == /var/run/netns/* || $ns == /run/netns/* ]] || continue
  umount "$ns" 2>/dev/null || umount -l "$ns" 2>/dev/null || true
  rm -f "$ns"
done
mapfile -t mounts < <(awk -v s="$STATE" '$5 == s || index($5, s "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
for m in "${mounts[@]}"; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
done

# 6. network: the pods' bridge and our chains, the portmap plugin's and the kubelet's chains
"$CLUSTER_DIR/pod-network.sh" remove
"$CLUSTER_DIR/remove-k8s-chains.sh"

# 7. the empty cgroups the kubelet made for pods (rmdir only removes empty ones)
for sub in /sys/fs/cgroup/*/kubepods; do
  if [[ -d $sub ]]; then find "$sub" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
done

# 8. registry, and dockerd only when up.sh started it
stop_daemon registry 10
if [[ -f $STATE/dockerd.started-by-up ]]; then
  stop_daemon dockerd 30
fi

rm -rf "$STATE"

# 9. nothing of ours may be left running
left=()
for pattern in "kubelet .*--root-dir=$STATE" "kube-(apiserver|controller-manager|scheduler) " \
  "etcd .*--data-dir $STATE" "containerd --config $CONTAINERD_DIR" \
  "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" "docker-registry serve $STATE"; do
  while read -r pid; do [[ -n $pid ]] && left+=("$pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)"); done \
    < <(pgrep -f "$pattern" || true)
done
if ((${#left[@]})); then
  printf 'left running: %s\n' "${left[@]}" >&2
  die "down incomplete"
fi
log "down: done in $((SECONDS - started))s"
