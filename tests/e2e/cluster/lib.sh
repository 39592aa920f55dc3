# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared settings and helpers for the e2e cluster scripts. Sourced, never run.
#
# Everything the cluster writes lives under one state dir, so down.sh can remove it whole:
#   $STATE/logs/NAME.log   each daemon's output
#   $STATE/pids/NAME.pid   each daemon's PID (the process we started, a session leader)
# Every wait is bounded in tries and seconds; a component that does not come up makes the
# script print the tail of its log and exit non-zero.

STATE=${DEMON_E2E_STATE:-/var/tmp/demon-e2e}
CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOGS=$STATE/logs
PIDS=$STATE/pids

K8S_VERSION=${K8S_VERSION:-v1.32.13}
CONTEXT=demon-e2e
NODE_NAME=127.0.0.1               # resolves to itself: the apiserver reaches the kubelet on loopback
REGISTRY_ADDR=127.0.0.1:5001
REGISTRY_USER=demon
POD_CIDR=10.88.0.0/16             # pods only live in netns the cluster creates
SERVICE_CIDR=10.96.0.0/12
KUBERNETES_SERVICE_IP=10.96.0.1   # the "kubernetes" Service: pod-network.sh DNATs it to the apiserver
CNI_BRIDGE=demone2e0              # our own bridge name, never docker0 or cni0
PAUSE_IMAGE=localhost/demon-e2e/pause:1
CACHE_ROOT=${DEMON_E2E_CACHE:-$HOME/.cache/demon-e2e}
CRICTL_VERSION=${CRICTL_VERSION:-v1.34.0}
CRICTL=$CACHE_ROOT/crictl-$CRICTL_VERSION/crictl   # built by build-crictl.sh

CONTAINERD_DIR=$STATE/containerd
CONTAINERD_SOCK=$CONTAINERD_DIR/containerd.sock
PKI=$STATE/pki
KUBECONFIGS=$STATE/kubeconfigs
ADMIN_KUBECONFIG=$STATE/kubeconfig
# The Debian docker.io client is the one shipped with the daemon we start; the PATH may hold a
# newer static client too. Either works (API negotiation); the legacy builder needs no buildx.
DOCKER=${DOCKER:-docker}
export DOCKER_BUILDKIT=0

# Note for pipelines under `set -o pipefail`: `cmd | grep -q` can fail when grep exits at its
# first match and cmd then dies of SIGPIPE (seen with `ctr images ls`); use `grep ... >/dev/null`.

log() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# alive PID: the process exists and is not a zombie. Our daemons' parent (the shell that ran
# up.sh) is gone, so they are reaped by PID 1, which here takes ~2 s: a zombie counts as dead.
alive() {
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# pid_of NAME: the recorded PID if that process is still alive and is still the program we
# started (argv[0] compared: after a reboot the number may belong to something else), else
# nothing (status 1).
pid_of() {
  local f=$PIDS/$1.pid pid argv0
  [[ -f $f ]] || return 1
  pid=$(head -n 1 "$f")
  argv0=$(sed -n 2p "$f")
  [[ -n $pid ]] && alive "$pid" || return 1
  [[ -z $argv0 || $(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1) == "$argv0" ]] || return 1
  echo "$pid"
}

# start_daemon NAME CMD...: run CMD detached (own session, no stdin) with output in its log.
# setsid makes it survive the shell (npm run) that started it, and gives down.sh a process
# group to signal.
start_daemon() {
  local name=$1; shift
  mkdir -p "$LOGS" "$PIDS"
  log "starting $name"
  echo "===== $(date -u +%FT%TZ) up.sh starts $name" >>"$LOGS/$name.log"
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  local pid=$! i
  printf '%s\n%s\n' "$pid" "$1" >"$PIDS/$name.pid"
  # Until setsid has exec'd the daemon, /proc/PID/cmdline still names bash or setsid and
  # pid_of would report the daemon dead ("exited while starting", seen on a busy CI machine).
  # Wait for the exec, bounded: 200 x 10 ms.
  for ((i = 0; i < 200; i++)); do
    alive "$pid" || break
    [[ $(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1) == "$1" ]] && break
    sleep 0.01
  done
}

# require_free_port NAME PORT: fail loudly when something else already listens there (a stray
# daemon from another state dir would otherwise answer our health checks).
require_free_port() {
  if ss -Htln "sport = :$2" | grep . >/dev/null; then
    ss -Htlnp "sport = :$2" >&2
    die "$1: port $2 is already in use by another process"
  fi
}

show_log() {
  local name=$1
  echo "----- last 40 lines of $LOGS/$name.log -----" >&2
  tail -n 40 "$LOGS/$name.log" >&2 2>/dev/null || echo "(no log)" >&2
  echo "-----" >&2
}

# wait_for NAME SECONDS CMD...: poll CMD every 0.5 s, at most SECONDS s (and 2*SECONDS tries).
# Fails fast when the daemon NAME has died. On failure: the log tail and exit 1.
wait_for() {
  local name=$1 seconds=$2; shift 2
  local tries=$((seconds * 2)) deadline=$((SECONDS + seconds)) i
  for ((i = 0; i < tries && SECONDS < deadline; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -f $PIDS/$name.pid ]] && ! pid_of "$name" >/dev/null; then
      log "$name exited while starting"
      show_log "$name"; exit 1
    fi
    sleep 0.5
  done
  log "$name did not become healthy within ${seconds}s"
  show_log "$name"; exit 1
}

# stop_daemon NAME [SECONDS]: SIGTERM the process group, wait (bounded), then SIGKILL.
stop_daemon() {
  local name=$1 seconds=${2:-15} pid i
  if pid=$(pid_of "$name"); then
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < seconds * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "$name ignored SIGTERM for ${seconds}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -f "$PIDS/$name.pid"
}

# https_ok URL: 200 over TLS with the server cert checked against our CA (the apiserver's).
https_ok() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" "$1"; }
# https_ok_selfsigned URL: 200 over TLS from a component that serves a self-signed cert on
# loopback (controller-manager, scheduler: kubeadm makes no serving certs for them).
https_ok_selfsigned() { curl -fsSk --max-time 2 "$1"; }

# quiet CMD...: run CMD with its output kept aside, shown only if it fails (docker's legacy
# builder deprecation notice and credential-store warning are noise on success).
quiet() {
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  ((rc == 0)) || printf '%s\n' "$out" >&2
  return "$rc"
}

kubectl_admin() { kubectl --kubeconfig "$ADMIN_KUBECONFIG" --context "$CONTEXT" "$@"; }
