#!/usr/bin/env bash
# The proof that a real kind cluster works here: create one from the offline node image, check
# the node, the system pods, Service routing (cluster DNS from a pod, port-forward from the
# host) and a PVC on the default StorageClass, then delete it. Exits non-zero on any failure,
# after `kind export logs` into a directory it names. Uses its own kubeconfig; leaves nothing.
set -euo pipefail
started=$EPOCHREALTIME
source "$(dirname "$0")/lib.sh"

eval "$("$KIND_DIR/prepare.sh")"
name=${KIND_PROBE_NAME:-kind-probe}
run_id=$(date +%Y%m%d-%H%M%S)-$$
work=$(mktemp -d /tmp/kind-probe.XXXXXX)
export KUBECONFIG=$work/kubeconfig   # throw-away: kind must not touch the user's or e2e's
image=$IMAGE_PREFIX/probe-httpd:$run_id   # not :latest, which would mean imagePullPolicy Always
ns=probe
pf_pid=
created=
k() { "$KIND_OFFLINE_KUBECTL" "$@"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

cleanup() {
  local rc=$? t0 logs
  set +e
  [[ -n $pf_pid ]] && { kill "$pf_pid" 2>/dev/null; wait "$pf_pid" 2>/dev/null; }
  if ((rc != 0)) && [[ -n $created ]]; then
    logs=/var/tmp/kind-offline-logs/$run_id
    log "probe FAILED: state of the cluster, then kind export logs"
    k get nodes -o wide >&2
    k get pods -A -o wide >&2
    k -n "$ns" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 20 >&2
    kind export logs --name "$name" "$logs" >/dev/null 2>&1 && log "cluster logs exported to $logs"
  fi
  if [[ -n $created ]]; then
    t0=$EPOCHREALTIME
    kind delete cluster --name "$name" --kubeconfig "$KUBECONFIG" >/dev/null 2>&1 || rc=1
    log "probe: kind delete cluster: $(elapsed "$t0")s"
  fi
  "$DOCKER" rmi "$image" >/dev/null 2>&1
  # kind's network, unless another cluster (or anything else) is attached to it
  if [[ $("$DOCKER" network inspect kind --format '{{len .Containers}}' 2>/dev/null) == 0 ]]; then
    "$DOCKER" network rm kind >/dev/null 2>&1
  fi
  rm -rf "$work"
  ((rc == 0)) && log "probe: passed in $(elapsed "$started")s (cluster deleted)"
  exit "$rc"
}
trap cleanup EXIT
DOCKER=$(real_docker)

# 0. a cluster left over by an interrupted run
if kind get clusters 2>/dev/null | grep -x "$name" >/dev/null; then
  log "probe: deleting leftover cluster $name"
  kind delete cluster --name "$name" --kubeconfig "$KUBECONFIG" >/dev/null 2>&1
fi

# 1. create (--retain so that a failure can still be exported; cleanup deletes it)
log "probe: kind create cluster --name $name --image $KIND_OFFLINE_NODE_IMAGE"
t0=$EPOCHREALTIME
created=1
kind create cluster --name "$name" --image "$KIND_OFFLINE_NODE_IMAGE" --kubeconfig "$KUBECONFIG" \
  --retain --wait 180s --config - <<'YAML'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true   # no kindnetd here: the node image bakes a bridge conflist
YAML
log "probe: kind create cluster: $(elapsed "$t0")s"

# 2. node and system pods
k wait node --all --for=condition=Ready --timeout=60s >/dev/null
log "probe: node $(k get nodes -o jsonpath='{.items[0].metadata.name} {.items[0].status.nodeInfo.kubeletVersion}') Ready"
for sel in "kube-system k8s-app=kube-dns" "kube-system k8s-app=kube-proxy" \
  "local-path-storage app=local-path-provisioner"; do
  set -- $sel
  # `kubectl wait -l` fails at once while no pod matches yet (right after create): poll first
  for _ in $(seq 1 120); do
    [[ -n $(k -n "$1" get pods -l "$2" -o name 2>/dev/null) ]] && break
    sleep 1
  done
  k -n "$1" wait pod -l "$2" --for=condition=Ready --timeout=120s >/dev/null
  log "probe: $1 pods $2 Running and Ready"
done

# 3. an image of ours via `kind load docker-image`: FROM scratch, static busybox httpd
mkdir -p "$work/ctx/www"
cp /bin/busybox "$work/ctx/busybox"
echo ok >"$work/ctx/www/health"
cat >"$work/ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
COPY www /www
USER 65532:65532
ENTRYPOINT ["/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"]
EOF
quiet "$DOCKER" build -q -t "$image" "$work/ctx"
t0=$EPOCHREALTIME
kind load docker-image "$image" --name "$name" >/dev/null
log "probe: kind load docker-image $image: $(elapsed "$t0")s"

# 4. Deployment + Service, reached by DNS name from a second pod
k create namespace "$ns" >/dev/null
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: $image
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
YAML
k -n "$ns" rollout status deployment/web --timeout=120s >/dev/null
url=http://web.$ns.svc:80/health
# (no wget -T in the client: Debian's busybox-static 1.35 wget segfaults with it; timeout instead)
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: wget
      image: $image
      command: [/bin/busybox, sh, -c]
      args: ['for i in 1 2 3 4 5 6 7 8 9 10; do busybox timeout 3 busybox wget -q -O - $url && exit 0; sleep 1; done; exit 1']
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: write
      image: $image
      securityContext: {runAsUser: 0}
      command: [/bin/busybox, sh, -c, 'echo written-$run_id > /data/probe && busybox cat /data/probe']
      volumeMounts: [{name: data, mountPath: /data}]
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: data}
YAML
k -n "$ns" wait pod/client --for=jsonpath='{.status.phase}'=Succeeded --timeout=60s >/dev/null ||
  die "pod client could not GET $url: $(k -n "$ns" logs client 2>&1 | tail -n 5)"
client_log=$(k -n "$ns" logs client)
[[ $(tail -n 1 <<<"$client_log") == ok ]] || die "GET $url from a pod: unexpected body '$client_log'"
log "probe: GET $url from a pod -> ok (CoreDNS + kube-proxy)"
# a Service kube-proxy had not programmed yet is dropped, then retried (node/drop-untranslated-services)
[[ $client_log == ok ]] || log "probe: (retried first: $(head -n -1 <<<"$client_log" | tr '\n' ' '))"

# 5. port-forward from the host to the Service
k -n "$ns" port-forward --address 127.0.0.1 svc/web :80 >"$work/port-forward.log" 2>&1 &
pf_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> 8080$/\1/p' "$work/port-forward.log")
  [[ -n $port ]] && break
  kill -0 "$pf_pid" 2>/dev/null || { cat "$work/port-forward.log" >&2; die "kubectl port-forward exited"; }
  sleep 0.1
done
[[ -n $port ]] || die "kubectl port-forward gave no port in 10s"
body=$(curl -fsS --max-time 5 --retry 5 --retry-delay 1 --retry-all-errors "http://127.0.0.1:$port/health")
[[ $body == ok ]] || die "GET /health through port-forward: '$body'"
log "probe: GET http://127.0.0.1:$port/health via port-forward svc/web -> ok"
kill "$pf_pid" 2>/dev/null; wait "$pf_pid" 2>/dev/null || true
pf_pid=

# 6. the PVC: bound by local-path-provisioner (its helper pod made the directory), written
k -n "$ns" wait pod/writer --for=jsonpath='{.status.phase}'=Succeeded --timeout=120s >/dev/null
[[ $(k -n "$ns" logs writer) == "written-$run_id" ]] || die "PVC writer pod: '$(k -n "$ns" logs writer)'"
[[ $(k -n "$ns" get pvc data -o jsonpath='{.status.phase} {.spec.storageClassName}') == "Bound standard" ]] ||
  die "PVC data: $(k -n "$ns" get pvc data -o jsonpath='{.status.phase} {.spec.storageClassName}')"
pv=$(k -n "$ns" get pvc data -o jsonpath='{.spec.volumeName}')
log "probe: PVC data Bound to $pv (StorageClass standard), written by a pod"
log "probe: all checks passed after $(elapsed "$started")s; deleting the cluster"
