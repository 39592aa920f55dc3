#!/usr/bin/env bash
# Installs the Debian packages the e2e cluster runs on, only those missing.
# `apt-get update` runs only when something is missing, so a warm machine pays nothing.
set -euo pipefail

PACKAGES=(
  containerd runc containernetworking-plugins   # the private CRI runtime and the pod network
  etcd-server                                   # the apiserver's store
  docker.io                                     # builds and pushes the test images
  docker-registry                               # the local image registry (distribution 2.8)
  apache2-utils                                 # htpasswd for the registry's auth
  busybox-static                                # the test app's only binary
  iptables iproute2 procps                       # iproute2: ip, ss; procps: pgrep
  gcc libc6-dev                                 # the static pause binary
  curl jq openssl gettext-base                  # gettext-base: envsubst for the templates
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep '^install ok installed$' >/dev/null || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "packages: all present" >&2
  exit 0
fi
echo "packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
