#!/usr/bin/env bash
# Builds the Kubernetes server binaries the e2e cluster needs from the Go module proxy.
#
# `go install k8s.io/kubernetes/cmd/...` cannot work: kubernetes' go.mod replaces its staging
# modules with local paths (kubernetes/kubernetes#79384). So we generate a throw-away wrapper
# module that requires k8s.io/kubernetes and maps each staging module to its published v0.x
# twin, derived from the .mod file the proxy serves. The binaries land in a cache outside the
# clone, keyed by Kubernetes and Go versions; a complete cache is reused without building.
#
# Usage: build-k8s.sh            prints the bin directory on stdout (the last line)
# Env:   K8S_VERSION (default v1.32.13), DEMON_E2E_CACHE (default ~/.cache/demon-e2e)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.32.13}
CACHE_ROOT=${DEMON_E2E_CACHE:-$HOME/.cache/demon-e2e}
GO_VERSION=$(go env GOVERSION)
BIN_DIR="$CACHE_ROOT/k8s-$K8S_VERSION-$GO_VERSION/bin"
# The e2e cluster runs the first five; the kind node image (tests/e2e/kind) also needs
# kube-proxy and kubectl. One build shares the packages, which is much cheaper than two.
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubeadm kube-proxy kubectl)

complete() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
  [[ -f "$BIN_DIR/.complete" ]]
}

if complete; then
  echo "k8s $K8S_VERSION binaries cached in $BIN_DIR" >&2
  echo "$BIN_DIR"
  exit 0
fi

started=$(date +%s)
work="$CACHE_ROOT/wrapper-$K8S_VERSION"
mkdir -p "$work" "$BIN_DIR"
cd "$work"

# staging modules are published as v0.<minor>.<patch> for v1.<minor>.<patch>
staging_version="v0.${K8S_VERSION#v1.}"
# The module proxy reachable here does not serve every staging module at every patch version
# (k8s.io/endpointslice v0.32.13 is refused, for one). Take the matching patch when it is served,
# else the nearest older patch of the same minor line: staging modules only change by backports.
staging_version_for() {
  local module=$1 patch=${staging_version##*.} prefix=${staging_version%.*}
  while (( patch >= 0 )); do
    # outside any module, so the half-written wrapper go.mod is not consulted
    if (cd / && go mod download "$module@$prefix.$patch" >/dev/null 2>&1); then
      echo "$prefix.$patch"; return 0
    fi
    (( patch-- ))
  done
  echo "no version of $module in $prefix.x is served" >&2; return 1
}

mod_file=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
[[ -f "$mod_file" ]] || { echo "could not download k8s.io/kubernetes@$K8S_VERSION's go.mod" >&2; exit 1; }

replaces=()
for module in $(grep -oE 'k8s.io/[a-z0-9-]+ => ./staging/' "$mod_file" | awk '{print $1}'); do
  replaces+=("	$module => $module $(staging_version_for "$module")")
done

{
  echo "module demon-e2e/k8s-build"
  echo
  echo "go $(sed -n 's/^go //p' "$mod_file")"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  printf '%s\n' "${replaces[@]}"
  echo ")"
} > go.mod
{
  echo "//go:build tools"
  echo
  echo "package tools"
  echo
  echo "import ("
  printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${BINARIES[@]}"
  echo ")"
} > tools.go

echo "resolving modules for k8s $K8S_VERSION (staging $staging_version)" >&2
go mod tidy -e >&2 2>&1 || true
go get "k8s.io/kubernetes@$K8S_VERSION" >&2

# Stamp both version packages, or the node and `kubectl version` report v0.0.0.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

echo "building ${BINARIES[*]} (cold: 15-30 min on 2 cores)" >&2
CGO_ENABLED=0 go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$BIN_DIR/" \
  $(printf 'k8s.io/kubernetes/cmd/%s ' "${BINARIES[@]}") >&2
touch "$BIN_DIR/.complete"
echo "built k8s $K8S_VERSION in $(( $(date +%s) - started ))s into $BIN_DIR" >&2
echo "$BIN_DIR"
