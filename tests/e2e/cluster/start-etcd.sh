#!/usr/bin/env bash
# The apiserver's store: Debian's etcd-server (3.4), one member, plain HTTP on loopback only.
# Its data is thrown away with the state dir, so fsync safety does not matter; we keep the
# defaults anyway (3.4 has no --unsafe-no-fsync).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

healthy() { curl -fsS --max-time 2 http://127.0.0.1:2379/health | grep '"health":"true"' >/dev/null; }

if pid_of etcd >/dev/null && healthy; then
  log "etcd: already running"
  exit 0
fi
stop_daemon etcd 5
require_free_port etcd 2379
require_free_port etcd 2380
mkdir -p "$STATE/etcd"
chmod 700 "$STATE/etcd"
start_daemon etcd etcd \
  --name demon-e2e \
  --data-dir "$STATE/etcd" \
  --listen-client-urls http://127.0.0.1:2379 \
  --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 \
  --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster demon-e2e=http://127.0.0.1:2380 \
  --initial-cluster-state new \
  --quota-backend-bytes $((2 * 1024 * 1024 * 1024)) \
  --snapshot-count 10000 \
  --logger zap --log-outputs stderr
wait_for etcd 30 healthy
log "etcd: up on 127.0.0.1:2379 ($(etcd --version | head -1))"
