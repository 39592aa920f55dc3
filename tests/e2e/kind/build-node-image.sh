#!/usr/bin/env bash
# Builds a kind v0.27.0 node image for Kubernetes v1.32.13 on a machine with no container
# registry: every piece comes from Debian packages (mmdebstrap) or the Go module proxy, the way
# kind's own `kind build node-image` assembles one (which cannot run offline: it pulls its base
# image and runs `ctr content fetch` for every component image).
#
# Steps (each is skipped when its output is cached and its input hash matches):
#    1 host tools         mmdebstrap, gcc, busybox-static, containerd (apt, only if missing)
#    2 kind CLI           go install sigs.k8s.io/kind@v0.27.0
#    3 etcd               go/etcd wrapper module (go.etcd.io/etcd/server/v3 v3.5.24)
#    4 coredns            go/coredns wrapper module (CoreDNS v1.11.3, trimmed plugin list)
#    5 local-path         go install github.com/rancher/local-path-provisioner@v0.0.30
#    6 iptables rootfs    mmdebstrap minbase + iptables/nftables/conntrack (kube-proxy's base)
#    7 node base rootfs   mmdebstrap + kind's images/base customisation, files taken from the
#                         kind module in the Go module cache, with our two edits
#    8 k8s binaries       tests/e2e/cluster/build-k8s.sh (waits for a build already running)
#                         and build-crictl.sh
#    9 docker             a daemon must answer (tests/e2e/cluster/start-dockerd.sh if not)
#   10 component images   FROM scratch / FROM the iptables rootfs, legacy builder
#   11 node rootfs        base + kubeadm/kubelet/kubectl/crictl, /kind/version, manifests, our
#                         CNI conflist and pre-entrypoint, images preloaded into containerd
#   12 node image         docker import + node/Dockerfile (metadata), labelled with the key
#
# A warm run (node image present with the same input hash) exits after a few checks.
# Usage: build-node-image.sh
#   stdout: `KIND=<path of the kind binary>` then the node image tag as the last line.
# Env:    DEMON_E2E_CACHE (default ~/.cache/demon-e2e), K8S_VERSION (default v1.32.13)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
started=$EPOCHREALTIME

KIND_MOD_DIR=            # set by kind_module_dir
BUILD=$KIND_CACHE/build  # scratch space, removed at the end
ROOTFS_DIR=$KIND_CACHE/rootfs
KEYS=$KIND_BIN_DIR/.keys
GO_LDFLAGS="-s -w"
DOCKER=$(real_docker) || die "no docker client on PATH"

NODE_PACKAGES=(  # kind's base image list, with Debian's containerd/runc/CNI plugins instead of
  # upstream's source builds; minus nfs-common/open-iscsi/fuse-overlayfs (not used here)
  systemd systemd-sysv dbus containerd runc containernetworking-plugins
  conntrack iptables nftables iproute2 ethtool util-linux mount kmod libseccomp2 pigz
  bash ca-certificates curl jq procps
)
IPTABLES_PACKAGES=(iptables nftables conntrack)   # what kube-proxy execs

# ---------------------------------------------------------------- helpers

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# step N NAME FUNC: run FUNC, time it to stderr
step() {
  local n=$1 name=$2 t0=$EPOCHREALTIME
  shift 2
  log "step $n/12 $name"
  "$@"
  log "step $n/12 $name: $(elapsed "$t0")s"
}

hash16() { sha256sum | cut -c1-16; }
fresh() { [[ -f $1 && $(<"$1") == "$2" ]]; }          # fresh KEYFILE KEY
stamp() { mkdir -p "$(dirname "$1")"; echo "$2" >"$1"; }

# Hash of a directory tree: names, link targets, modes and file contents (not following links).
tree_hash() {
  (
    cd "$1"
    find . -printf '%p %y %l %m\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
  ) | hash16
}

kind_module_dir() {
  [[ -n $KIND_MOD_DIR ]] && return 0
  KIND_MOD_DIR=$(cd / && go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | jq -r .Dir)
  [[ -d $KIND_MOD_DIR/images/base/files ]] || die "kind module has no images/base/files: $KIND_MOD_DIR"
}

# The node image's key: versions, our sources, the k8s binaries and crictl we put in it.
node_key() {
  local f
  {
    echo "kind=$KIND_VERSION k8s=$K8S_VERSION go=$GO_VERSION etcd=$ETCD_VERSION coredns=$COREDNS_VERSION"
    echo "local-path=$LOCAL_PATH_VERSION pause=$PAUSE_TAG suite=$DEBIAN_SUITE ${DEBIAN_MIRRORS[*]}"
    echo "${NODE_PACKAGES[*]} / ${IPTABLES_PACKAGES[*]}"
    (cd "$KIND_DIR" && sha256sum build-node-image.sh lib.sh node/* go/*/go.mod go/*/go.sum go/*/main.go)
    sha256sum "$CLUSTER_SCRIPTS/pause/pause.c"
    for f in kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubeadm kubectl; do
      stat -c '%n %s %Y' "$K8S_BIN_DIR/$f" 2>/dev/null || echo "$f missing"
    done
    stat -c '%n %s %Y' "$(crictl_path)" 2>/dev/null || echo "crictl missing"
  } | hash16
}
node_tag() { echo "$NODE_IMAGE_REPO:$K8S_VERSION-$1"; }
crictl_path() { echo "$CACHE_ROOT/crictl-${CRICTL_VERSION:-v1.34.0}/crictl"; }  # = cluster/lib.sh

image_key() { "$DOCKER" image inspect --format "{{index .Config.Labels \"$KEY_LABEL\"}}" "$1" 2>/dev/null || true; }

# ---------------------------------------------------------------- warm path

warm_check() {
  local key tag b
  timeout 10 "$DOCKER" info >/dev/null 2>&1 || return 1
  for b in kind etcd coredns local-path-provisioner; do [[ -x $KIND_BIN_DIR/$b ]] || return 1; done
  key=$(node_key)
  tag=$(node_tag "$key")
  [[ $(image_key "$tag") == "$key" ]] || return 1
  echo "$tag"
}
if tag=$(warm_check); then
  log "node image $tag is current (inputs unchanged): nothing to build ($(elapsed "$started")s)"
  echo "$tag" >"$KIND_CACHE/node-image"
  echo "KIND=$KIND"
  echo "$tag"
  exit 0
fi

mkdir -p "$KIND_BIN_DIR" "$KEYS" "$ROOTFS_DIR"
rm -rf "$BUILD"
mkdir -p "$BUILD"
preload_pid=
cleanup() {
  if [[ -n $preload_pid ]] && kill -0 "$preload_pid" 2>/dev/null; then
    kill -TERM "$preload_pid" 2>/dev/null || true
    wait "$preload_pid" 2>/dev/null || true
  fi
  rm -rf "$BUILD"
}
trap cleanup EXIT

# ---------------------------------------------------------------- 1 host tools

host_tools() {
  local p missing=()
  # mmdebstrap: the rootfs trees; gcc/libc6-dev: the static pause binary; busybox-static: the
  # local-path helper image; containerd: a private ctr/containerd to preload the node's store
  for p in mmdebstrap gcc libc6-dev busybox-static containerd jq; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep '^install ok installed$' >/dev/null || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# ---------------------------------------------------------------- 2-5 Go binaries

# go_binary NAME KEY CMD...: run CMD (which writes $KIND_BIN_DIR/NAME) unless its key is current
go_binary() {
  local name=$1 key=$2
  shift 2
  if [[ -x $KIND_BIN_DIR/$name ]] && fresh "$KEYS/$name" "$key"; then
    log "$name: cached"
    return 0
  fi
  rm -f "$KEYS/$name"
  "$@" >&2
  [[ -x $KIND_BIN_DIR/$name ]] || die "$name was not built"
  stamp "$KEYS/$name" "$key"
}
go_flags_key() { echo "$GO_VERSION CGO_ENABLED=$CGO_ENABLED -trimpath $GO_LDFLAGS $*"; }
wrapper_key() { { go_flags_key; cat "$KIND_DIR/go/$1"/{go.mod,go.sum,main.go}; } | hash16; }

build_kind() {
  go_binary kind "$(go_flags_key "sigs.k8s.io/kind@$KIND_VERSION" | hash16)" \
    env GOBIN="$KIND_BIN_DIR" sh -c 'cd / && go install -trimpath -ldflags "$1" "$2"' _ \
    "$GO_LDFLAGS" "sigs.k8s.io/kind@$KIND_VERSION"
  "$KIND" version | grep -F "kind $KIND_VERSION " >/dev/null || die "kind reports: $("$KIND" version)"
}
build_etcd() {
  go_binary etcd "$(wrapper_key etcd)" \
    sh -c 'cd "$1" && go build -trimpath -ldflags "$2" -o "$3" .' _ \
    "$KIND_DIR/go/etcd" "$GO_LDFLAGS" "$KIND_BIN_DIR/etcd"
  "$KIND_BIN_DIR/etcd" --version | grep -F "etcd Version: ${ETCD_VERSION#v}" >/dev/null ||
    die "etcd reports: $("$KIND_BIN_DIR/etcd" --version)"
}
build_coredns() {
  go_binary coredns "$(wrapper_key coredns)" \
    sh -c 'cd "$1" && go build -trimpath -ldflags "$2" -o "$3" .' _ \
    "$KIND_DIR/go/coredns" "$GO_LDFLAGS" "$KIND_BIN_DIR/coredns"
  "$KIND_BIN_DIR/coredns" -version | grep -F "CoreDNS-${COREDNS_VERSION#v}" >/dev/null ||
    die "coredns reports: $("$KIND_BIN_DIR/coredns" -version)"
}
build_local_path() {
  local mod=github.com/rancher/local-path-provisioner
  local flags="$GO_LDFLAGS -X main.VERSION=$LOCAL_PATH_VERSION"
  go_binary local-path-provisioner "$(go_flags_key "$mod@$LOCAL_PATH_VERSION $flags" | hash16)" \
    env GOBIN="$KIND_BIN_DIR" sh -c 'cd / && go install -trimpath -ldflags "$1" "$2"' _ \
    "$flags" "$mod@$LOCAL_PATH_VERSION"
}

# ---------------------------------------------------------------- 6-7 Debian rootfs

mmdebstrap_common=(
  --variant=minbase
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*'
)

iptables_rootfs() {
  local out=$ROOTFS_DIR/iptables.tar key
  key=$({ echo "${mmdebstrap_common[*]} ${IPTABLES_PACKAGES[*]} $DEBIAN_SUITE ${DEBIAN_MIRRORS[*]}"; } | hash16)
  if [[ -f $out ]] && fresh "$out.key" "$key"; then log "iptables rootfs: cached"; return 0; fi
  rm -f "$out" "$out.key" "$out.tmp"
  mmdebstrap --quiet "${mmdebstrap_common[@]}" --format=tar \
    --include="$(IFS=,; echo "${IPTABLES_PACKAGES[*]}")" \
    "$DEBIAN_SUITE" "$out.tmp" "${DEBIAN_MIRRORS[@]}" >&2
  mv "$out.tmp" "$out"
  stamp "$out.key" "$key"
}

# kind v0.27.0's images/base/Dockerfile, done to a directory tree instead of in `docker build`.
customise_node_rootfs() {
  local R=$1 files=$KIND_MOD_DIR/images/base/files f mode
  # COPY --chmod: scripts 0755, the rest 0644 (module cache files are read-only)
  while IFS= read -r -d '' f; do
    case $f in ./usr/local/bin/* | ./kind/bin/*) mode=0755 ;; *) mode=0644 ;; esac
    install -D -m "$mode" "$files/$f" "$R/$f"
  done < <(cd "$files" && find . -type f -print0)
  chmod 755 "$R/kind/bin"
  # edit 1: runc cannot lower oom_score_adj without CAP_SYS_RESOURCE, which this host lacks
  sed -i 's/^\(\s*restrict_oom_score_adj\s*=\s*\)false/\1true/' "$R/etc/containerd/config.toml"
  grep -E '^\s*restrict_oom_score_adj = true' "$R/etc/containerd/config.toml" >/dev/null ||
    die "kind's containerd config.toml: restrict_oom_score_adj edit did not apply"
  # edit 2: Debian's containerd lives in /usr/bin
  sed -i 's|^ExecStart=/usr/local/bin/containerd$|ExecStart=/usr/bin/containerd|' \
    "$R/etc/systemd/system/containerd.service"
  grep -x 'ExecStart=/usr/bin/containerd' "$R/etc/systemd/system/containerd.service" >/dev/null ||
    die "kind's containerd.service: ExecStart edit did not apply"
  # the Dockerfile's clean-up, verbatim
  find "$R/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
  rm -f "$R"/lib/systemd/system/multi-user.target.wants/* "$R"/etc/systemd/system/*.wants/* \
    "$R"/lib/systemd/system/local-fs.target.wants/* "$R"/lib/systemd/system/sockets.target.wants/*udev* \
    "$R"/lib/systemd/system/sockets.target.wants/*initctl* "$R"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$R/etc/systemd/journald.conf"
  ln -sf /lib/systemd/systemd "$R/sbin/init"
  chroot "$R" systemctl enable kubelet.service containerd.service undo-mount-hacks.service 2>&1 | sed 's/^/  /' >&2
  chroot "$R" systemctl mask systemd-binfmt.service 2>&1 | sed 's/^/  /' >&2
  mkdir -p "$R/etc/kubernetes/manifests" "$R/opt/cni/bin" "$R/kind/manifests"
  # CNI plugins where containerd's CRI looks (Debian puts them in /usr/lib/cni)
  for f in bridge host-local portmap loopback ptp; do cp "$R/usr/lib/cni/$f" "$R/opt/cni/bin/"; done
  chroot "$R" ctr oci spec |
    jq '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"$R/etc/containerd/cri-base.json"
  jq -e '.hooks.createContainer[0].path == "/kind/bin/mount-product-files.sh"' "$R/etc/containerd/cri-base.json" >/dev/null
  rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/etc/machine-id
  : >"$R/etc/machine-id"   # the entrypoint regenerates it per node
}

node_base_rootfs() {
  local out=$ROOTFS_DIR/node-base key
  kind_module_dir
  key=$({
    echo "${mmdebstrap_common[*]} ${NODE_PACKAGES[*]} $DEBIAN_SUITE ${DEBIAN_MIRRORS[*]} kind=$KIND_VERSION"
    declare -f customise_node_rootfs
  } | hash16)
  if [[ -d $out ]] && fresh "$out.key" "$key"; then log "node base rootfs: cached"; return 0; fi
  rm -rf "$out" "$out.key" "$out.tmp"
  mmdebstrap --quiet "${mmdebstrap_common[@]}" \
    --include="$(IFS=,; echo "${NODE_PACKAGES[*]}")" \
    "$DEBIAN_SUITE" "$out.tmp" "${DEBIAN_MIRRORS[@]}" >&2
  customise_node_rootfs "$out.tmp"
  mv "$out.tmp" "$out"
  stamp "$out.key" "$key"
}

# ---------------------------------------------------------------- 8 k8s binaries, crictl

k8s_binaries() {
  local b i
  # `npm run cluster:up` may be building the same cache right now: never run a second build
  # into the same directory, wait for it (bounded: 60 min, polled every 10 s).
  for ((i = 0; i < 360; i++)); do
    [[ -f $K8S_BIN_DIR/.complete ]] && break
    pgrep -f "build-k8s\.sh|$K8S_BIN_DIR" >/dev/null || break
    ((i % 6 == 0)) && log "waiting for the k8s build already running (into $K8S_BIN_DIR)"
    sleep 10
  done
  K8S_BIN_DIR=$("$CLUSTER_SCRIPTS/build-k8s.sh" | tail -n 1)
  for b in kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubeadm kubectl; do
    [[ -x $K8S_BIN_DIR/$b ]] || die "build-k8s.sh did not give $b (in $K8S_BIN_DIR)"
  done
  CRICTL=$("$CLUSTER_SCRIPTS/build-crictl.sh" | tail -n 1)
  [[ -x $CRICTL ]] || die "build-crictl.sh did not give crictl (got '$CRICTL')"
}

# ---------------------------------------------------------------- 9 docker

docker_up() {
  local i
  # A `cluster:up` in progress starts dockerd itself: two start-dockerd.sh at once race for
  # docker's pid file (seen), so wait for that one (bounded: 60 min, polled every 5 s).
  for ((i = 0; i < 720; i++)); do
    timeout 10 "$DOCKER" info >/dev/null 2>&1 && return 0
    pgrep -f "tests/e2e/cluster/up\.sh|[.]/up\.sh|start-dockerd\.sh" >/dev/null || break
    ((i % 12 == 0)) && log "waiting for the running cluster:up to start dockerd"
    sleep 5
  done
  log "no docker daemon answers: tests/e2e/cluster/start-dockerd.sh"
  "$CLUSTER_SCRIPTS/start-dockerd.sh"
  timeout 10 "$DOCKER" info >/dev/null 2>&1 || die "docker still does not answer"
}

# ---------------------------------------------------------------- 10 component images

# build_image TAG CONTEXT: docker build unless TAG already carries CONTEXT's hash as label
build_image() {
  local tag=$1 ctx=$2 key old
  key=$(tree_hash "$ctx")
  if [[ $(image_key "$tag") == "$key" ]]; then log "image $tag: current"; return 0; fi
  old=$("$DOCKER" image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  quiet "$DOCKER" build -q --label "$KEY_LABEL=$key" -t "$tag" "$ctx"
  [[ -n $old && $old != "$("$DOCKER" image inspect --format '{{.Id}}' "$tag")" ]] &&
    "$DOCKER" rmi "$old" >/dev/null 2>&1 || true   # the replaced build, if nothing uses it
  log "image $tag: built"
}

# scratch_context NAME DEST=SRC... : a FROM-scratch context with files, passwd/group and /tmp
scratch_context() {
  local ctx=$BUILD/images/$1 spec
  shift
  mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/tmp"
  chmod 1777 "$ctx/rootfs/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$ctx/rootfs/etc/group"
  for spec in "$@"; do install -D -m 0755 "${spec#*=}" "$ctx/rootfs/${spec%%=*}"; done
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin\n' >"$ctx/Dockerfile"
  echo "$ctx"
}

component_images() {
  local ctx b base key
  # kube-apiserver, -controller-manager, -scheduler: kubeadm's static pods exec them by name
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    ctx=$(scratch_context "$b" "usr/local/bin/$b=$K8S_BIN_DIR/$b")
    build_image "registry.k8s.io/$b:$K8S_VERSION" "$ctx"
  done
  ctx=$(scratch_context etcd "usr/local/bin/etcd=$KIND_BIN_DIR/etcd")
  build_image "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" "$ctx"
  # kubeadm's CoreDNS Deployment passes only args: the image must name the binary
  ctx=$(scratch_context coredns "coredns=$KIND_BIN_DIR/coredns")
  printf 'EXPOSE 53 53/udp\nENTRYPOINT ["/coredns"]\n' >>"$ctx/Dockerfile"
  build_image "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "$ctx"
  # pause: the e2e cluster's own pause.c, static
  ctx=$BUILD/images/pause
  mkdir -p "$ctx"
  gcc -Os -static -s -o "$ctx/pause" "$CLUSTER_SCRIPTS/pause/pause.c"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
  build_image "registry.k8s.io/pause:$PAUSE_TAG" "$ctx"
  # kube-proxy runs iptables/ip6tables/conntrack/nft: FROM the Debian iptables rootfs
  key=$(<"$ROOTFS_DIR/iptables.tar.key")
  base=$IMAGE_PREFIX/debian-iptables:$DEBIAN_SUITE-$key
  if ! "$DOCKER" image inspect "$base" >/dev/null 2>&1; then
    "$DOCKER" import "$ROOTFS_DIR/iptables.tar" "$base" >/dev/null
  fi
  ctx=$BUILD/images/kube-proxy
  mkdir -p "$ctx/rootfs/usr/local/bin"
  install -m 0755 "$K8S_BIN_DIR/kube-proxy" "$ctx/rootfs/usr/local/bin/"
  printf 'FROM %s\nCOPY rootfs/ /\n' "$base" >"$ctx/Dockerfile"
  build_image "registry.k8s.io/kube-proxy:$K8S_VERSION" "$ctx"
  # local-path-provisioner and its helper (runs `sh /script/setup|teardown`: mkdir, rm)
  ctx=$(scratch_context local-path-provisioner \
    "usr/local/bin/local-path-provisioner=$KIND_BIN_DIR/local-path-provisioner")
  printf 'CMD ["local-path-provisioner"]\n' >>"$ctx/Dockerfile"
  build_image "$IMAGE_PREFIX/local-path-provisioner:$LOCAL_PATH_VERSION" "$ctx"
  ctx=$(scratch_context local-path-helper "bin/busybox=/bin/busybox")
  for b in $(/bin/busybox --list); do [[ $b == busybox ]] || ln -s busybox "$ctx/rootfs/bin/$b"; done
  printf 'ENV PATH=/bin\n' >>"$ctx/Dockerfile"
  build_image "$(helper_image)" "$ctx"
}
helper_image() { echo "$IMAGE_PREFIX/local-path-helper:busybox-$(dpkg-query -W -f='${Version}' busybox-static | sed 's/^[0-9]*://; s/[^A-Za-z0-9_.-]/_/g')"; }
component_tags() {
  echo "registry.k8s.io/kube-apiserver:$K8S_VERSION registry.k8s.io/kube-controller-manager:$K8S_VERSION"
  echo "registry.k8s.io/kube-scheduler:$K8S_VERSION registry.k8s.io/kube-proxy:$K8S_VERSION"
  echo "registry.k8s.io/etcd:$ETCD_IMAGE_TAG registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
  echo "registry.k8s.io/pause:$PAUSE_TAG $IMAGE_PREFIX/local-path-provisioner:$LOCAL_PATH_VERSION $(helper_image)"
}

# ---------------------------------------------------------------- 11 node rootfs

# kind's storage manifest (pkg/build/nodeimage/const_storage.go), with our image names
storage_manifest() {
  local src=$KIND_MOD_DIR/pkg/build/nodeimage/const_storage.go
  grep -E '^const storage(Provisioner|Helper)Image = ' "$src" >/dev/null || die "unexpected $src"
  awk -v prov="$IMAGE_PREFIX/local-path-provisioner:$LOCAL_PATH_VERSION" -v helper="$(helper_image)" '
    /^const defaultStorageManifest = `/ { on = 1; next }
    on && /^`/ { exit }
    on { gsub(/` \+ storageProvisionerImage \+ `/, prov); gsub(/` \+ storageHelperImage \+ `/, helper); print }
  ' "$src"
}

preload_images() {
  local R=$1 tar=$2 C=$BUILD/preload sock i t names
  mkdir -p "$C"
  sock=$C/containerd.sock
  # A private containerd (Debian 1.6.20, the node's own version: same metadata schema) whose
  # root is the node's /var/lib/containerd; the same import kind's `build node-image` does.
  cat >"$C/config.toml" <<EOF
version = 2
root = "$R/var/lib/containerd"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"
EOF
  /usr/bin/containerd --config "$C/config.toml" >"$C/containerd.log" 2>&1 &
  preload_pid=$!
  for ((i = 0; i < 150; i++)); do
    ctr -a "$sock" version >/dev/null 2>&1 && break
    kill -0 "$preload_pid" 2>/dev/null || { tail -n 20 "$C/containerd.log" >&2; die "preload containerd exited"; }
    sleep 0.2
  done
  ctr -a "$sock" version >/dev/null 2>&1 || { tail -n 20 "$C/containerd.log" >&2; die "preload containerd: no socket after 30s"; }
  ctr -a "$sock" -n k8s.io images import --no-unpack --digests --all-platforms "$tar" >/dev/null
  names=$(ctr -a "$sock" -n k8s.io images ls -q)
  for t in $(component_tags); do
    grep -xF "$t" <<<"$names" >/dev/null || die "preload: $t missing from the node's containerd"
  done
  kill -TERM "$preload_pid"
  for ((i = 0; i < 100; i++)); do kill -0 "$preload_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$preload_pid" 2>/dev/null || true
  preload_pid=
}

node_rootfs() {
  local R=$BUILD/node-rootfs
  kind_module_dir
  cp -a "$ROOTFS_DIR/node-base" "$R"
  install -m 0755 "$K8S_BIN_DIR"/{kubeadm,kubelet,kubectl} "$R/usr/bin/"
  install -m 0755 "$CRICTL" "$R/usr/local/bin/crictl"
  install -m 0755 "$KIND_DIR/node/pre-entrypoint" "$R/usr/local/bin/kind-offline-pre-entrypoint"
  install -m 0755 "$KIND_DIR/node/drop-untranslated-services" \
    "$R/usr/local/bin/kind-offline-drop-untranslated-services"
  install -m 0644 "$KIND_DIR/node/kind-offline-drop-untranslated-services.service" "$R/etc/systemd/system/"
  chroot "$R" systemctl enable kind-offline-drop-untranslated-services.service 2>&1 | sed 's/^/  /' >&2
  # single-node pod network over Debian's plugins: with disableDefaultCNI kind applies none
  install -D -m 0644 "$KIND_DIR/node/10-kind-offline.conflist" "$R/etc/cni/net.d/10-kind-offline.conflist"
  echo "$K8S_VERSION" >"$R/kind/version"
  storage_manifest >"$R/kind/manifests/default-storage.yaml"
  grep -c "image: $IMAGE_PREFIX/" "$R/kind/manifests/default-storage.yaml" | grep -x 2 >/dev/null ||
    die "default-storage.yaml: image names not replaced"
  # shellcheck disable=SC2046
  "$DOCKER" save -o "$BUILD/images.tar" $(component_tags)
  preload_images "$R" "$BUILD/images.tar"
  rm -f "$BUILD/images.tar"
}

# ---------------------------------------------------------------- 12 node image

node_image() {
  local key tag rootfs_tag old
  key=$(node_key)
  tag=$(node_tag "$key")
  rootfs_tag=$IMAGE_PREFIX/node-rootfs:$K8S_VERSION-$key
  tar -C "$BUILD/node-rootfs" --numeric-owner --xattrs \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' --exclude='./tmp/*' \
    -cf - . | "$DOCKER" import - "$rootfs_tag" >/dev/null
  quiet "$DOCKER" build -q --build-arg "ROOTFS=$rootfs_tag" --label "$KEY_LABEL=$key" \
    --label "$KEY_LABEL.cache=$KIND_CACHE" -t "$tag" "$KIND_DIR/node"
  "$DOCKER" rmi "$rootfs_tag" >/dev/null   # untag only: the node image keeps the layer
  rm -rf "$BUILD/node-rootfs"
  # older node images from this cache: removed unless a cluster still runs one
  for old in $("$DOCKER" images --filter "label=$KEY_LABEL.cache=$KIND_CACHE" \
    --format '{{.Repository}}:{{.Tag}}' "$NODE_IMAGE_REPO"); do
    [[ $old == "$tag" ]] || "$DOCKER" rmi "$old" >/dev/null 2>&1 || true
  done
  echo "$tag" >"$KIND_CACHE/node-image"
  NODE_IMAGE=$tag
}

# ---------------------------------------------------------------- run

step 1 "host tools" host_tools
step 2 "kind CLI $KIND_VERSION" build_kind
step 3 "etcd $ETCD_VERSION" build_etcd
step 4 "coredns $COREDNS_VERSION" build_coredns
step 5 "local-path-provisioner $LOCAL_PATH_VERSION" build_local_path
step 6 "iptables rootfs" iptables_rootfs
step 7 "node base rootfs" node_base_rootfs
step 8 "k8s $K8S_VERSION binaries + crictl" k8s_binaries
step 9 "docker daemon" docker_up
step 10 "component images" component_images
step 11 "node rootfs + preloaded images" node_rootfs
step 12 "node image" node_image
log "node image $NODE_IMAGE ($("$DOCKER" image inspect --format '{{.Size}}' "$NODE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')) built in $(elapsed "$started")s"
echo "KIND=$KIND"
echo "$NODE_IMAGE"
