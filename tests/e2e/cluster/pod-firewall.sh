#!/usr/bin/env bash
# pod-firewall.sh add|remove: the iptables chain that fences the pod subnet (see
# start-containerd.sh). Idempotent both ways; touches only its own chain and its own jump.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CHAIN=DEMON-E2E-PODS
case ${1:-} in
  add)
    iptables -w -N "$CHAIN" 2>/dev/null || iptables -w -F "$CHAIN"
    iptables -w -A "$CHAIN" -s "$POD_CIDR" -d "$POD_CIDR" -j ACCEPT
    iptables -w -A "$CHAIN" -s "$POD_CIDR" -j DROP
    iptables -w -A "$CHAIN" -d "$POD_CIDR" -j DROP
    iptables -w -C FORWARD -j "$CHAIN" 2>/dev/null || iptables -w -I FORWARD 1 -j "$CHAIN"
    ;;
  remove)
    while iptables -w -D FORWARD -j "$CHAIN" 2>/dev/null; do :; done
    iptables -w -F "$CHAIN" 2>/dev/null || true
    iptables -w -X "$CHAIN" 2>/dev/null || true
    ;;
  *) die "usage: $0 add|remove" ;;
esac
