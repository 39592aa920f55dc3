#!/usr/bin/env bash
# Builds crictl (the CRI's own client) from the Go module proxy into the same cache as the
# Kubernetes binaries. down.sh uses it to remove pods the CRI way (`crictl rmp -fa`, which runs
# CNI DEL); it is also handy for looking at the node. Cached: instant once built.
# The proxy reachable here serves cri-tools v1.34.0 and v1.37.0 but no v1.32.x; v1.34 speaks
# the same CRI v1 API that containerd 1.6 serves.
# Usage: build-crictl.sh   prints the crictl path on stdout (the last line)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

dir=$(dirname "$CRICTL")
if [[ -x $CRICTL ]]; then
  echo "$CRICTL"
  exit 0
fi
started=$(date +%s)
echo "building crictl $CRICTL_VERSION" >&2
mkdir -p "$dir"
GOBIN=$dir CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
  "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" >&2
echo "built crictl in $(( $(date +%s) - started ))s" >&2
echo "$CRICTL"
