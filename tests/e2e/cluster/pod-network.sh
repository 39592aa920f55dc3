#!/usr/bin/env bash
# pod-network.sh add|remove: the host side of the pod network, around what the CNI bridge
# plugin does itself. Idempotent both ways; touches only its own bridge, chains and jumps.
#  - the bridge is made here (the plugin reuses it) so route_localnet can be set on it first;
#  - filter chain: pods may talk to each other, nothing on the pod subnet is ever forwarded
#    anywhere else (bridged frames pass FORWARD through br_netfilter, and dockerd sets that
#    chain's policy to DROP, hence the ACCEPT). A second fence behind the pods' routes, which
#    only cover the pod subnet and the apiserver's Service IP;
#  - nat chain: the "kubernetes" Service IP (10.96.0.1:443, what in-cluster clients dial) is
#    DNATed to the apiserver on 127.0.0.1:6443. There is no kube-proxy; this one rule stands in
#    for it. route_localnet lets the bridge carry packets to and from 127.0.0.1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FILTER=DEMON-E2E-PODS
NAT=DEMON-E2E-APISERVER
case ${1:-} in
  add)
    if ! ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
      ip link add "$CNI_BRIDGE" type bridge
    fi
    ip link set "$CNI_BRIDGE" up
    sysctl -qw "net.ipv4.conf.$CNI_BRIDGE.route_localnet=1"

    iptables -w -N "$FILTER" 2>/dev/null || iptables -w -F "$FILTER"
    iptables -w -A "$FILTER" -s "$POD_CIDR" -d "$POD_CIDR" -j ACCEPT
    iptables -w -A "$FILTER" -s "$POD_CIDR" -j DROP
    iptables -w -A "$FILTER" -d "$POD_CIDR" -j DROP
    iptables -w -C FORWARD -j "$FILTER" 2>/dev/null || iptables -w -I FORWARD 1 -j "$FILTER"

    iptables -w -t nat -N "$NAT" 2>/dev/null || iptables -w -t nat -F "$NAT"
    iptables -w -t nat -A "$NAT" -s "$POD_CIDR" -d "$KUBERNETES_SERVICE_IP/32" -p tcp --dport 443 \
      -j DNAT --to-destination 127.0.0.1:6443
    iptables -w -t nat -C PREROUTING -j "$NAT" 2>/dev/null || iptables -w -t nat -I PREROUTING 1 -j "$NAT"
    ;;
  remove)
    while iptables -w -D FORWARD -j "$FILTER" 2>/dev/null; do :; done
    iptables -w -F "$FILTER" 2>/dev/null || true
    iptables -w -X "$FILTER" 2>/dev/null || true
    while iptables -w -t nat -D PREROUTING -j "$NAT" 2>/dev/null; do :; done
    iptables -w -t nat -F "$NAT" 2>/dev/null || true
    iptables -w -t nat -X "$NAT" 2>/dev/null || true
    ip link del "$CNI_BRIDGE" 2>/dev/null || true
    ;;
  *) die "usage: $0 add|remove" ;;
esac
