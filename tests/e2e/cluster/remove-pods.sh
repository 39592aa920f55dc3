#!/usr/bin/env bash
# Removes every pod sandbox and container from the private containerd (k8s.io namespace).
# With crictl (built by build-crictl.sh) this is the CRI's own teardown, which also runs CNI DEL;
# the ctr pass after it kills and deletes whatever is left.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# only a cached crictl: down.sh must not start a build
if [[ -x $CRICTL ]]; then
  n=$(timeout 20 "$CRICTL" --runtime-endpoint "unix://$CONTAINERD_SOCK" pods -q 2>/dev/null | wc -l)
  ((n == 0)) || log "removing $n pod sandbox(es) with crictl rmp -fa"
  timeout 90 "$CRICTL" --runtime-endpoint "unix://$CONTAINERD_SOCK" --timeout 30s \
    rmp -fa >"$LOGS/crictl-rmp.log" 2>&1 ||
    { log "crictl rmp -fa failed"; tail -n 5 "$LOGS/crictl-rmp.log" >&2; }
fi

ctr_k8s() { timeout 20 ctr -a "$CONTAINERD_SOCK" -n k8s.io "$@"; }
for id in $(ctr_k8s tasks ls -q 2>/dev/null); do
  ctr_k8s tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
done
for id in $(ctr_k8s tasks ls -q 2>/dev/null); do
  for _ in 1 2 3 4 5; do ctr_k8s tasks rm -f "$id" >/dev/null 2>&1 && break; sleep 0.5; done
done
for id in $(ctr_k8s containers ls -q 2>/dev/null); do
  ctr_k8s containers rm "$id" >/dev/null 2>&1 || true
done
left=$(ctr_k8s tasks ls -q 2>/dev/null | wc -l)
((left == 0)) || { log "$left task(s) still in containerd"; exit 1; }
