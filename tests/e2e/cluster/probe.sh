#!/usr/bin/env bash
# The proof that the cluster does what the e2e tests need: build an image with the real
# `docker build`, push it to the authenticated local registry, deploy it with an
# imagePullSecret, wait for the rollout, reach it through `kubectl port-forward`, read its
# logs, and clean up. Exits non-zero on any failure. Needs up.sh first.
set -euo pipefail
started=$SECONDS
source "$(dirname "$0")/lib.sh"
[[ -f $STATE/env.sh ]] || die "cluster not up ($STATE/env.sh missing): run up.sh"
# shellcheck source=/dev/null
source "$STATE/env.sh"

run_id=$(date +%s)-$$
ns=demon-e2e-probe-$run_id
image=$DEMON_E2E_REGISTRY/demon-e2e/probe:$run_id
work=$STATE/probe/$run_id
pf_pid=
k() { kubectl --context "$DEMON_E2E_CONTEXT" "$@"; }

cleanup() {
  local rc=$?
  set +e
  if [[ -n $pf_pid ]]; then kill "$pf_pid" 2>/dev/null; wait "$pf_pid" 2>/dev/null; fi
  if ((rc != 0)); then
    log "probe failed: state of namespace $ns"
    k -n "$ns" get all,events -o wide 2>&1 | tail -n 30 >&2 || true
    [[ -f $work/port-forward.log ]] && { echo "--- port-forward.log" >&2; cat "$work/port-forward.log" >&2; }
  fi
  if ! k delete namespace "$ns" --ignore-not-found --wait=true --timeout=60s >/dev/null; then
    log "namespace $ns not deleted within 60s"
    ((rc != 0)) || rc=1
  fi
  "$DOCKER" rmi "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
  ((rc != 0)) || log "probe: passed in $((SECONDS - started))s (namespace removed)"
  exit "$rc"
}
trap cleanup EXIT

# 1. the image: FROM scratch + static busybox, built by the real docker
mkdir -p "$work/ctx"
cp -r "$CLUSTER_DIR/probe-image/." "$work/ctx/"
cp /bin/busybox "$work/ctx/busybox"
log "probe: docker build $image"
quiet "$DOCKER" build -q -t "$image" "$work/ctx"

# 2. push with credentials from the password file (stdin only), in a private docker config
export DOCKER_CONFIG=$work/docker-config
quiet "$DOCKER" login "$DEMON_E2E_REGISTRY" -u "$DEMON_E2E_REGISTRY_USER" --password-stdin \
  <"$DEMON_E2E_REGISTRY_PASSWORD_FILE"
log "probe: docker push"
quiet "$DOCKER" push "$image"

# 3. namespace, pull secret (built and applied through stdin), deployment
k create namespace "$ns" >/dev/null
auth=$(printf '%s:%s' "$DEMON_E2E_REGISTRY_USER" "$(<"$DEMON_E2E_REGISTRY_PASSWORD_FILE")" | base64 -w0)
dockerconfig=$(printf '{"auths":{"%s":{"auth":"%s"}}}' "$DEMON_E2E_REGISTRY" "$auth" | base64 -w0)
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: registry-pull
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: $dockerconfig
YAML
unset auth dockerconfig
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: probe
spec:
  replicas: 1
  selector:
    matchLabels: {app: probe}
  template:
    metadata:
      labels: {app: probe}
    spec:
      imagePullSecrets: [{name: registry-pull}]
      # busybox httpd as PID 1 has no SIGTERM handler, so the kernel drops SIGTERM and the
      # kubelet would wait the default 30 s before SIGKILL when the namespace goes
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: true
      securityContext:
        runAsNonRoot: true
      containers:
        - name: httpd
          image: $image
          imagePullPolicy: Always
          ports: [{containerPort: 8080}]
          readinessProbe:
            httpGet: {path: /health, port: 8080}
            periodSeconds: 1
          resources:
            requests: {cpu: 10m, memory: 16Mi}
            limits: {memory: 64Mi}
YAML
log "probe: rollout status"
k -n "$ns" rollout status deployment/probe --timeout=120s >/dev/null

# 4. port-forward on a local port kubectl picks; read it from its first output line
k -n "$ns" port-forward --address 127.0.0.1 deployment/probe :8080 >"$work/port-forward.log" 2>&1 &
pf_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> 8080$/\1/p' "$work/port-forward.log")
  [[ -n $port ]] && break
  kill -0 "$pf_pid" 2>/dev/null || die "kubectl port-forward exited"
  sleep 0.1
done
[[ -n $port ]] || die "kubectl port-forward gave no port in 10s"
code=
for _ in 1 2 3 4 5; do
  code=$(curl -s -o "$work/health.body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/health" || true)
  [[ $code == 200 ]] && break
  sleep 0.5
done
[[ $code == 200 ]] || die "GET /health through port-forward: HTTP $code"
[[ $(<"$work/health.body") == ok ]] || die "GET /health: unexpected body"
log "probe: GET http://127.0.0.1:$port/health -> 200 ok"

# 5. logs: busybox httpd -v logs each response; ours is the one from 127.0.0.1 (port-forward
#    connects inside the pod's netns; the kubelet's readiness probes come from the bridge)
logs=$(k -n "$ns" logs deployment/probe)
grep -qE '127\.0\.0\.1\]:[0-9]+: response:200' <<<"$logs" ||
  die "kubectl logs lacks our request (got: ${logs:0:300})"
log "probe: kubectl logs ok ($(wc -l <<<"$logs") lines)"
log "probe: checks passed after $((SECONDS - started))s; cleaning up"
