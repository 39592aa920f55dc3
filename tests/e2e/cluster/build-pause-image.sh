#!/usr/bin/env bash
# Builds the pod sandbox image from pause/ (static C binary, FROM scratch) with the real
# `docker build`, and imports it into the private containerd's k8s.io namespace, where the CRI
# plugin looks for its sandbox_image. Both steps are skipped when already done: the docker
# image carries the hash of its sources as a label.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

src=$CLUSTER_DIR/pause
hash=$(cat "$src/pause.c" "$src/Dockerfile" | sha256sum | cut -c1-16)

built=$("$DOCKER" image inspect --format '{{index .Config.Labels "demon-e2e.source"}}' "$PAUSE_IMAGE" 2>/dev/null || true)
if [[ $built != "$hash" ]]; then
  log "pause: building $PAUSE_IMAGE"
  ctx=$STATE/build/pause
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$src/Dockerfile" "$ctx/"
  gcc -Os -static -s -o "$ctx/pause" "$src/pause.c"
  quiet "$DOCKER" build -q --label "demon-e2e.source=$hash" -t "$PAUSE_IMAGE" "$ctx"
fi

ctr_k8s() { ctr -a "$CONTAINERD_SOCK" -n k8s.io "$@"; }
want=$("$DOCKER" image inspect --format '{{.Id}}' "$PAUSE_IMAGE")
have=$(ctr_k8s images ls "name==$PAUSE_IMAGE" 2>/dev/null | awk 'NR>1 {print $3}')
# docker's image ID is the config digest; containerd lists the manifest digest: compare configs
if [[ -n $have ]] && ctr_k8s content get "$have" 2>/dev/null | jq -e --arg id "$want" '.config.digest == $id' >/dev/null; then
  log "pause: $PAUSE_IMAGE already in containerd"
  exit 0
fi
log "pause: importing $PAUSE_IMAGE into containerd (k8s.io)"
$DOCKER save "$PAUSE_IMAGE" | ctr_k8s images import - >/dev/null
ctr_k8s images ls -q | grep -xF "$PAUSE_IMAGE" >/dev/null || die "pause image not in containerd after import"
