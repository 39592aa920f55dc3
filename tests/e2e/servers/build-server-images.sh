#!/usr/bin/env bash
# Builds the real servers the e2e stack deploys (nats-server, Prometheus, the NATS Prometheus
# exporter) from their Go modules into FROM-scratch images, instead of pulling images: no
# registry on the internet is reachable here, the Go module proxy is.
#
# Binaries are cached outside the clone, keyed by server and Go versions:
#   $CACHE_ROOT/servers/NAME-VERSION-GOVERSION/bin/   (+ SHA256SUMS, .complete)
# Each image carries a hash of its Dockerfile, rootfs and binaries as a label, so a warm run
# (cache complete, images present) builds nothing and takes a few seconds.
#
# Usage: build-server-images.sh [--push REGISTRY]
#   stdout: one line per image, "NAME LOCAL_TAG" (with --push: "NAME LOCAL_TAG PUSHED_REF")
#   --push: tags and pushes REGISTRY/demon-e2e/NAME:TAG. The password goes to `docker login
#   --password-stdin` from $DEMON_E2E_REGISTRY_PASSWORD_FILE if set, else from our stdin;
#   the user is $DEMON_E2E_REGISTRY_USER (default demon). Never on argv.
# Env:   NATS_VERSION, PROMETHEUS_VERSION, EXPORTER_VERSION (defaults below),
#        DEMON_E2E_CACHE (default ~/.cache/demon-e2e), DEMON_E2E_DOCKER_WAIT (s, default 120)
set -euo pipefail
source "$(dirname "$0")/../cluster/lib.sh"

SERVERS_DIR=$(cd "$(dirname "$0")" && pwd)
# Newest v2.10.x the module proxy serves (the stack's default image is nats:2.10-alpine).
NATS_VERSION=${NATS_VERSION:-v2.10.27}
# prom/prometheus:v2.45.0 is Go module version v0.45.0 (Prometheus tags its module v0.x).
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v2.45.0}
# Newest release tag; the proxy serves this version but refuses the module's @v/list.
EXPORTER_VERSION=${EXPORTER_VERSION:-v0.20.1}
REGISTRY_USER=${DEMON_E2E_REGISTRY_USER:-$REGISTRY_USER}
DOCKER_WAIT=${DEMON_E2E_DOCKER_WAIT:-120}
SERVERS_CACHE=$CACHE_ROOT/servers
GO_VERSION=$(go env GOVERSION)
# Binaries are keyed by the Go version we record: never let go fetch another toolchain.
export GOTOOLCHAIN=local CGO_ENABLED=0

push_to=
while (($#)); do
  case $1 in
    --push) push_to=${2:?--push needs a registry, e.g. 127.0.0.1:5001}; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done

mkdir -p "$SERVERS_CACHE"
# Two runs at once (a test and a developer) would build into the same dirs: take turns.
exec 9>"$SERVERS_CACHE/.lock"
flock -w 3600 9 || die "another build-server-images.sh held $SERVERS_CACHE/.lock for an hour"

# bin_dir NAME VERSION: where that server's binaries are cached.
bin_dir() { echo "$SERVERS_CACHE/$1-$2-$GO_VERSION/bin"; }
complete() { [[ -f $1/.complete && -f $1/SHA256SUMS ]]; }

# module_copy MODULE VERSION DEST: a writable copy of the module's source from the module
# cache (downloaded through the proxy if missing), for builds `go install` cannot do.
module_copy() {
  local dir
  # outside any module, so no go.mod around us is consulted
  dir=$(cd / && go mod download -json "$1@$2" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  [[ -d $dir ]] || die "could not download $1@$2 from the module proxy"
  rm -rf "$3" && mkdir -p "$3"
  cp -a "$dir/." "$3/"
  chmod -R u+w "$3"   # the module cache is read-only
}

# module_time MODULE VERSION: the version's commit time as the proxy reports it (a stable
# build date, so the same version always stamps the same bytes).
module_time() {
  (cd / && go mod download -json "$1@$2") | sed -n 's/.*"Info": "\(.*\)",*/\1/p' | xargs cat |
    sed -n 's/.*"Time":"\([^"]*\)".*/\1/p'
}

# finish NAME BIN_DIR STARTED: record checksums (the image hash uses them) and mark complete.
finish() {
  (cd "$2" && sha256sum -- * >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
  touch "$2/.complete"
  log "$1: built in $(($(date +%s) - $3))s into $2"
}

build_nats() {
  local bin=$1 started
  started=$(date +%s)
  log "nats: building nats-server $NATS_VERSION with $GO_VERSION (cold: ~1 min on 2 cores)"
  rm -rf "$bin" && mkdir -p "$bin"
  # VERSION is a constant in the source; the git commit is unknown outside a clone.
  GOBIN=$bin go install -trimpath -ldflags "-s -w" \
    "github.com/nats-io/nats-server/v2@$NATS_VERSION" >&2
  finish nats "$bin" "$started"
}

build_prometheus() {
  local bin=$1 started work module_version=v0.${PROMETHEUS_VERSION#v2.} v=${PROMETHEUS_VERSION#v} pkg ldflags
  started=$(date +%s)
  log "prometheus: building $PROMETHEUS_VERSION (module $module_version) with $GO_VERSION (cold: ~5 min)"
  work=$SERVERS_CACHE/src/prometheus-$module_version
  # `go install` refuses a module with replace directives (prometheus replaces k8s.io/klog):
  # build inside a copy of the module instead, with its own go.mod and go.sum.
  module_copy github.com/prometheus/prometheus "$module_version" "$work"
  rm -rf "$bin" && mkdir -p "$bin"
  pkg=github.com/prometheus/common/version
  # tags as upstream's .promu.yml minus builtinassets (the UI assets are built by npm, not in
  # the module): netgo = pure-Go DNS, stringlabels = upstream's label layout
  ldflags="-s -w -X $pkg.Version=$v -X $pkg.Branch=HEAD -X $pkg.BuildUser=demon-e2e"
  ldflags+=" -X $pkg.BuildDate=$(module_time github.com/prometheus/prometheus "$module_version")"
  (cd "$work" && go build -trimpath -tags netgo,stringlabels -ldflags "$ldflags" \
    -o "$bin/" ./cmd/prometheus ./cmd/promtool) >&2
  # the image's default config and console files, from the same module version
  cp "$work/documentation/examples/prometheus.yml" "$bin/prometheus.yml"
  tar -C "$work" -cf "$bin/consoles.tar" consoles console_libraries
  rm -rf "$work"
  finish prometheus "$bin" "$started"
}

build_exporter() {
  local bin=$1 started work v=${EXPORTER_VERSION#v} ldflags
  started=$(date +%s)
  log "prometheus-nats-exporter: building $EXPORTER_VERSION with $GO_VERSION (cold: ~1 min)"
  work=$SERVERS_CACHE/src/prometheus-nats-exporter-$EXPORTER_VERSION
  # `go install ...@version` looks up the module's deprecation in @v/list, which the proxy
  # refuses for this module (403): build inside a copy of the module instead.
  module_copy github.com/nats-io/prometheus-nats-exporter "$EXPORTER_VERSION" "$work"
  rm -rf "$bin" && mkdir -p "$bin"
  ldflags="-s -w -X main.version=$v"
  ldflags+=" -X main.date=$(module_time github.com/nats-io/prometheus-nats-exporter "$EXPORTER_VERSION")"
  (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$bin/" .) >&2
  rm -rf "$work"
  finish prometheus-nats-exporter "$bin" "$started"
}

wait_docker() {
  local deadline=$((SECONDS + DOCKER_WAIT))
  until timeout 10 "$DOCKER" info >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "no docker daemon answered within ${DOCKER_WAIT}s (npm run cluster:up starts one)"
    sleep 2
  done
}

# image NAME TAG BIN_DIR: build TAG from NAME.Dockerfile unless it already carries the hash
# of exactly these inputs.
image() {
  local name=$1 tag=$2 bin=$3 hash built ctx
  hash=$(cat "$SERVERS_DIR/$name.Dockerfile" "$SERVERS_DIR"/rootfs/etc/* "$bin/SHA256SUMS" |
    sha256sum | cut -c1-16)
  built=$("$DOCKER" image inspect --format '{{index .Config.Labels "demon-e2e.source"}}' "$tag" 2>/dev/null || true)
  if [[ $built == "$hash" ]]; then
    log "$name: $tag up to date"
    return 0
  fi
  log "$name: building image $tag"
  ctx=$SERVERS_CACHE/build/$name
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$SERVERS_DIR/$name.Dockerfile" "$ctx/Dockerfile"
  cp -r "$SERVERS_DIR/rootfs" "$ctx/rootfs"
  chmod 644 "$ctx"/rootfs/etc/*
  mkdir -p "$ctx/rootfs/tmp" && chmod 1777 "$ctx/rootfs/tmp"
  # hard links: no second copy of ~170 MB of binaries (same filesystem as the cache)
  find "$bin" -maxdepth 1 -type f -perm -u+x -exec ln -f {} "$ctx/" \;
  if [[ $name == prometheus ]]; then
    cp "$bin/prometheus.yml" "$ctx/"
    tar -C "$ctx" -xf "$bin/consoles.tar"
    mkdir -p "$ctx/data"
  fi
  quiet "$DOCKER" build -q --label "demon-e2e.source=$hash" \
    --label "demon-e2e.go=$GO_VERSION" -t "$tag" "$ctx"
  rm -rf "$ctx"
}

# push REF...: log in once (password on stdin only) with a throw-away docker config, so the
# credential is not left in ~/.docker/config.json, then push each ref.
push() {
  local cfg rc=0 ref
  cfg=$(mktemp -d)
  if [[ -n ${DEMON_E2E_REGISTRY_PASSWORD_FILE:-} ]]; then
    DOCKER_CONFIG=$cfg quiet "$DOCKER" login -u "$REGISTRY_USER" --password-stdin "$push_to" \
      <"$DEMON_E2E_REGISTRY_PASSWORD_FILE" || rc=$?
  else
    DOCKER_CONFIG=$cfg quiet "$DOCKER" login -u "$REGISTRY_USER" --password-stdin "$push_to" || rc=$?
  fi
  if ((rc == 0)); then
    for ref in "$@"; do
      log "pushing $ref"
      DOCKER_CONFIG=$cfg quiet "$DOCKER" push "$ref" || { rc=$?; break; }
    done
  fi
  rm -rf "$cfg"
  ((rc == 0)) || die "push to $push_to failed"
}

names=(nats prometheus prometheus-nats-exporter)
declare -A version=(
  [nats]=$NATS_VERSION [prometheus]=$PROMETHEUS_VERSION [prometheus-nats-exporter]=$EXPORTER_VERSION)
# upstream's tag styles: nats:2.10.x, prom/prometheus:v2.45.0, prometheus-nats-exporter:0.x
declare -A tag=(
  [nats]=localhost/demon-e2e/nats:${NATS_VERSION#v}
  [prometheus]=localhost/demon-e2e/prometheus:$PROMETHEUS_VERSION
  [prometheus-nats-exporter]=localhost/demon-e2e/prometheus-nats-exporter:${EXPORTER_VERSION#v})
declare -A builder=([nats]=build_nats [prometheus]=build_prometheus [prometheus-nats-exporter]=build_exporter)

# binaries first: they need no docker, so a cold run overlaps with dockerd starting
for name in "${names[@]}"; do
  bin=$(bin_dir "$name" "${version[$name]}")
  complete "$bin" || "${builder[$name]}" "$bin"
done

wait_docker
refs=()
for name in "${names[@]}"; do
  image "$name" "${tag[$name]}" "$(bin_dir "$name" "${version[$name]}")"
  if [[ -n $push_to ]]; then
    refs+=("$push_to/${tag[$name]#localhost/}")
    quiet "$DOCKER" tag "${tag[$name]}" "${refs[-1]}"
  fi
done
[[ -z $push_to ]] || push "${refs[@]}"

for i in "${!names[@]}"; do
  echo "${names[$i]} ${tag[${names[$i]}]}${push_to:+ ${refs[$i]}}"
done
