#!/usr/bin/env bash
# Removes the iptables chains the cluster leaves behind: the kubelet's canary/hint chains and
# the portmap CNI plugin's top-level CNI-HOSTPORT-* chains (its per-pod CNI-DN-* chains go with
# CNI DEL). Only chains with those names; a chain still referenced elsewhere is left alone.
set -uo pipefail

for table in filter nat mangle; do
  chains=$(iptables -w -t "$table" -S 2>/dev/null | awk '$1 == "-N" {print $2}' |
    grep -E '^(KUBE-KUBELET-CANARY|KUBE-IPTABLES-HINT|KUBE-FIREWALL|CNI-HOSTPORT-[A-Z]+|CNI-DN-[0-9a-f]+)$' || true)
  [[ -n $chains ]] || continue
  # drop the jumps to them from the built-in chains first
  for c in $chains; do
    iptables -w -t "$table" -S 2>/dev/null | grep -E -- "-j $c( |$)" | grep -vE "^-A $c " |
      while read -r _ chain rule; do
        eval "iptables -w -t $table -D $chain $rule" 2>/dev/null || true
      done
  done
  for c in $chains; do iptables -w -t "$table" -F "$c" 2>/dev/null || true; done
  for c in $chains; do iptables -w -t "$table" -X "$c" 2>/dev/null || true; done
done
exit 0
