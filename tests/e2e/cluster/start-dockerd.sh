#!/usr/bin/env bash
# Makes sure a Docker daemon answers on the default socket (probe.sh and the TypeScript e2e tests
# build and push images with the real `docker`). There is no systemd here, so when no daemon
# answers we start Debian's dockerd by hand and record that we did: down.sh stops it only then.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if timeout 10 "$DOCKER" info >/dev/null 2>&1; then
  if pid_of dockerd >/dev/null; then
    log "dockerd: already running (started by up.sh)"
  else
    log "dockerd: a daemon already answers (not ours; left alone)"
  fi
  exit 0
fi

# A dockerd that died uncleanly leaves its pid file behind and refuses to start.
if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
command -v dockerd >/dev/null || die "dockerd not installed (install-packages.sh)"
# Defaults otherwise (socket /var/run/docker.sock, data root /var/lib/docker, cgroupfs, overlay2)
# so every `docker` client on the machine talks to it. Its own managed containerd lives under
# /var/run/docker: our cluster's containerd is a separate process with a separate socket.
start_daemon dockerd dockerd --host unix:///var/run/docker.sock
touch "$STATE/dockerd.started-by-up"
wait_for dockerd 60 timeout 5 "$DOCKER" info
log "dockerd: up ($("$DOCKER" version --format '{{.Server.Version}}'))"
