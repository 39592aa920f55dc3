#!/usr/bin/env bash
# Sanity check of the images build-server-images.sh makes: runs them in docker the way the
# stack runs them (non-root, read-only root filesystem, writable dirs as tmpfs) and talks to
# them on 127.0.0.1 high ports. Like a pod, the three share one network namespace (the NATS
# container's), so the exporter reads http://127.0.0.1:8222 and Prometheus scrapes both.
#   nats-server -js -m 8222: client protocol (INFO, PING/PONG, pub/sub, $JS.API.INFO),
#     /healthz, /jsz; a second NATS from a config file like the stack's: /jsz shows its limits
#   prometheus-nats-exporter -varz -jsz=all -healthz: /metrics has gnatsd_varz_* and jetstream_* series
#   prometheus (self + exporter): /-/ready 200, both targets up in /api/v1/targets, a query
# Builds missing images first (a no-op when warm). Removes its containers on exit.
# Env: CHECK_PORT_BASE (default 34000: uses BASE+222, +822, +777, +909, +223, +823)
set -euo pipefail
source "$(dirname "$0")/../cluster/lib.sh"

SERVERS_DIR=$(cd "$(dirname "$0")" && pwd)
base=${CHECK_PORT_BASE:-34000}
P_CLIENT=$((base + 222)) P_MON=$((base + 822)) P_EXP=$((base + 777)) P_PROM=$((base + 909))
P_CLIENT2=$((base + 223)) P_MON2=$((base + 823))
PREFIX=demon-e2e-check   # our containers' names; only these are ever removed
LABEL=demon-e2e.check=$$

declare -A image
while read -r name tag _; do image[$name]=$tag; done < <("$SERVERS_DIR/build-server-images.sh")
for name in nats prometheus prometheus-nats-exporter; do
  [[ -n ${image[$name]:-} ]] || die "build-server-images.sh gave no $name image"
done

passed=0 failed=0
pass() { log "PASS: $*"; passed=$((passed + 1)); }
fail() { log "FAIL: $*"; failed=$((failed + 1)); }
# check DESCRIPTION CMD...: one result line per check (CMD's stdout dropped, its stderr shown);
# a failing check does not stop the run
check() { local what=$1; shift; if "$@" >/dev/null; then pass "$what"; else fail "$what"; fi; }

# remove_containers: ours only, by name (also leftovers of an earlier run that was killed)
remove_containers() {
  local c
  for c in "$PREFIX-prometheus" "$PREFIX-exporter" "$PREFIX-nats" "$PREFIX-nats-config"; do
    "$DOCKER" rm -f "$c" >/dev/null 2>&1 || true
  done
}
work=$(mktemp -d)
trap 'remove_containers; rm -rf "$work"' EXIT
remove_containers
for p in "$P_CLIENT" "$P_MON" "$P_EXP" "$P_PROM" "$P_CLIENT2" "$P_MON2"; do
  require_free_port check-servers "$p"
done
chmod 755 "$work"   # the servers run as 65534 and read the configs

# as the stack's pods: non-root, read-only root, no capabilities
hardened=(--read-only --user 65534:65534 --cap-drop ALL --security-opt no-new-privileges
  --label "$LABEL")

# dump_logs: what the containers said, when something failed
dump_logs() {
  local c
  for c in "$PREFIX-nats" "$PREFIX-exporter" "$PREFIX-prometheus" "$PREFIX-nats-config"; do
    echo "----- docker logs $c (last 20) -----" >&2
    "$DOCKER" logs --tail 20 "$c" >&2 2>&1 || true
  done
}

# wait_http NAME SECONDS URL: poll until URL answers 2xx, bounded
wait_http() {
  local name=$1 deadline=$((SECONDS + $2)) url=$3
  until curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name: $url did not answer within $2s"; dump_logs; return 1
    fi
    sleep 0.5
  done
}

# nats_session PORT: connect with bash's /dev/tcp, read INFO, then PING, pub/sub and a
# JetStream API request ($JS.API.INFO answers with the account's limits). Prints what the
# server sent: INFO, PONG, MSG demon.check, PONG and the JS reply (that one in any order).
nats_session() {
  local line out='' pongs=0 js=0 i
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'CONNECT {"verbose":false,"pedantic":false,"name":"check-servers"}\r\nPING\r\n' >&3
  printf 'SUB demon.check 1\r\nSUB _INBOX.check 2\r\nPUB demon.check 5\r\nhello\r\n' >&3
  # shellcheck disable=SC2016  # $JS is the subject's literal name
  printf 'PUB $JS.API.INFO _INBOX.check 0\r\n\r\nPING\r\n' >&3
  for ((i = 0; i < 20 && (pongs < 2 || js == 0); i++)); do   # bounded: lines and seconds
    IFS= read -r -t 5 line <&3 || break
    line=${line%$'\r'}
    out+=$line$'\n'
    [[ $line == PONG ]] && pongs=$((pongs + 1))
    [[ $line == *account_info_response* ]] && js=1
  done
  exec 3>&-
  printf '%s' "$out"
}

log "nats: starting ${image[nats]} -js -m 8222 (client 127.0.0.1:$P_CLIENT, monitor :$P_MON)"
# -js without -sd stores in /tmp/nats/jetstream: a tmpfs here, like an emptyDir in a pod.
# The ports of the exporter and Prometheus are published here too: they join this netns.
"$DOCKER" run -d --name "$PREFIX-nats" "${hardened[@]}" --tmpfs /tmp:rw,mode=1777 \
  -p "127.0.0.1:$P_CLIENT:4222" -p "127.0.0.1:$P_MON:8222" \
  -p "127.0.0.1:$P_EXP:7777" -p "127.0.0.1:$P_PROM:9090" \
  "${image[nats]}" -js -m 8222 >/dev/null
wait_http nats 30 "http://127.0.0.1:$P_MON/healthz" || exit 1

session=$(nats_session "$P_CLIENT" || true)
log "nats: the server said: $(cut -c1-160 <<<"$session" | tr '\n' '|')"
check "nats: INFO on connect, with jetstream:true" \
  grep -E '^INFO \{.*"version":"[0-9.]+".*"jetstream":true' <<<"$session"
check "nats: PING answered with PONG" grep -x PONG <<<"$session"
check "nats: a message published to a subscribed subject is delivered" \
  grep -x 'MSG demon.check 1 5' <<<"$session"
check "nats: \$JS.API.INFO answers over the client protocol" \
  grep -E '"type":"io.nats.jetstream.api.v1.account_info_response"' <<<"$session"
healthz=$(curl -fsS --max-time 2 "http://127.0.0.1:$P_MON/healthz" || true)
check "nats: GET /healthz -> {\"status\":\"ok\"} ($healthz)" \
  jq -e '.status == "ok"' <<<"$healthz"
jsz=$(curl -fsS --max-time 2 "http://127.0.0.1:$P_MON/jsz" || true)
check "nats: GET /jsz has JetStream enabled (no \"disabled\"), max_memory $(jq -r .config.max_memory <<<"$jsz" 2>/dev/null)" \
  jq -e '(.disabled // false) == false and .config.max_memory > 0 and .config.max_storage > 0 and (.config.store_dir | startswith("/tmp/nats"))' <<<"$jsz"

log "exporter: starting ${image[prometheus-nats-exporter]} -varz -jsz=all -healthz http://127.0.0.1:8222"
"$DOCKER" run -d --name "$PREFIX-exporter" "${hardened[@]}" --network "container:$PREFIX-nats" \
  "${image[prometheus-nats-exporter]}" -varz -jsz=all -healthz http://127.0.0.1:8222 >/dev/null
metrics_ok() {
  local m
  m=$(curl -fsS --max-time 2 "http://127.0.0.1:$P_EXP/metrics") || return 1
  grep -E '^gnatsd_varz_connections\{' <<<"$m" >/dev/null &&
    grep -E '^jetstream_server_max_memory\{' <<<"$m" >/dev/null
}
wait_http exporter 30 "http://127.0.0.1:$P_EXP/metrics" || true
deadline=$((SECONDS + 20))
until metrics_ok || ((SECONDS >= deadline)); do sleep 0.5; done
metrics=$(curl -fsS --max-time 2 "http://127.0.0.1:$P_EXP/metrics" || true)
check "exporter: /metrics has gnatsd_varz_* series ($(grep -c '^gnatsd_varz_' <<<"$metrics" || true) samples)" \
  grep -E '^gnatsd_varz_(connections|mem|jetstream_config_max_memory)\{' <<<"$metrics"
check "exporter: /metrics has jetstream_* series ($(grep -c '^jetstream_' <<<"$metrics" || true) samples)" \
  grep -E '^jetstream_server_(max_memory|total_streams)\{' <<<"$metrics"
check "exporter: gnatsd_healthz_status is 0 (ok)" grep -E '^gnatsd_healthz_status\{.*\} 0$' <<<"$metrics"

cat >"$work/prometheus.yml" <<'YAML'
global:
  scrape_interval: 2s
  scrape_timeout: 1s
scrape_configs:
  - job_name: prometheus
    static_configs: [{ targets: ["127.0.0.1:9090"] }]
  - job_name: nats
    static_configs: [{ targets: ["127.0.0.1:7777"] }]
YAML
chmod 644 "$work/prometheus.yml"
log "prometheus: starting ${image[prometheus]} (self + exporter)"
"$DOCKER" run -d --name "$PREFIX-prometheus" "${hardened[@]}" --network "container:$PREFIX-nats" \
  --tmpfs /prometheus:rw,uid=65534,gid=65534,mode=0755 \
  -v "$work/prometheus.yml:/etc/prometheus/prometheus.yml:ro" \
  "${image[prometheus]}" --config.file=/etc/prometheus/prometheus.yml \
  --storage.tsdb.path=/prometheus --web.listen-address=:9090 >/dev/null
wait_http prometheus 60 "http://127.0.0.1:$P_PROM/-/ready" || true
check "prometheus: GET /-/ready is 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$P_PROM/-/ready")" = 200
targets_up() {
  curl -fsS --max-time 2 "http://127.0.0.1:$P_PROM/api/v1/targets" |
    jq -e '[.data.activeTargets[] | select(.health == "up") | .labels.job] | sort == ["nats", "prometheus"]' >/dev/null
}
deadline=$((SECONDS + 30))
until targets_up || ((SECONDS >= deadline)); do sleep 1; done
targets=$(curl -fsS --max-time 2 "http://127.0.0.1:$P_PROM/api/v1/targets" || true)
check "prometheus: /api/v1/targets has both targets up: $(jq -c '[.data.activeTargets[] | {job: .labels.job, health}]' <<<"$targets" 2>/dev/null)" \
  targets_up
query=$(curl -fsS --max-time 2 "http://127.0.0.1:$P_PROM/api/v1/query?query=gnatsd_varz_jetstream_config_max_memory" || true)
check "prometheus: query gnatsd_varz_jetstream_config_max_memory returns a sample" \
  jq -e '.status == "success" and (.data.result | length) == 1' <<<"$query"
check "prometheus: promtool in the image checks the config" \
  "$DOCKER" run --rm --read-only --user 65534:65534 --entrypoint /bin/promtool \
  -v "$work/prometheus.yml:/etc/prometheus/prometheus.yml:ro" "${image[prometheus]}" \
  check config /etc/prometheus/prometheus.yml

# A NATS configured like templates/nats.yaml.mustache: JetStream limits from the config file
# must show in /jsz (max_memory_store -> config.max_memory, max_file_store -> max_storage).
mkdir -p "$work/nats" && chmod 755 "$work/nats"
cat >"$work/nats/nats.conf" <<'CONF'
port: 4222
http_port: 8222
jetstream {
  store_dir: "/data"
  max_memory_store: 67108864
  max_file_store: 268435456
}
CONF
chmod 644 "$work/nats/nats.conf"
log "nats: starting ${image[nats]} --config /etc/nats/nats.conf (monitor :$P_MON2)"
"$DOCKER" run -d --name "$PREFIX-nats-config" "${hardened[@]}" \
  --tmpfs /data:rw,uid=65534,gid=65534,mode=0755 -v "$work/nats:/etc/nats:ro" \
  -p "127.0.0.1:$P_CLIENT2:4222" -p "127.0.0.1:$P_MON2:8222" \
  "${image[nats]}" --config /etc/nats/nats.conf >/dev/null
wait_http nats-config 30 "http://127.0.0.1:$P_MON2/healthz" || true
jsz=$(curl -fsS --max-time 2 "http://127.0.0.1:$P_MON2/jsz" || true)
check "nats (config file): /jsz config $(jq -c '.config | {max_memory, max_storage, store_dir}' <<<"$jsz" 2>/dev/null)" \
  jq -e '.config.max_memory == 67108864 and .config.max_storage == 268435456 and .config.store_dir == "/data/jetstream"' <<<"$jsz"

((failed == 0)) || dump_logs
echo "$passed passed, $failed failed"
((failed == 0))
