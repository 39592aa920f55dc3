#!/usr/bin/env bash
# A private image registry on 127.0.0.1:5001 (Debian's docker-registry, i.e. distribution 2.8)
# with htpasswd auth, so the e2e tests exercise real imagePullSecrets. The password is random,
# made once per state dir, and only ever travels through files and stdin (never argv or logs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

dir=$STATE/registry
pwfile=$dir/password
url=http://$REGISTRY_ADDR/v2/

# 401 without credentials proves auth is on; 200 with them proves the password file matches.
status_anon() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url"; }
status_auth() {
  # curl reads the user:password from a config on stdin, not from argv
  printf 'user = "%s:%s"\n' "$REGISTRY_USER" "$(<"$pwfile")" |
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 -K - "$url"
}
ready() { [[ $(status_anon) == 401 && $(status_auth) == 200 ]]; }

if pid_of registry >/dev/null && ready; then
  log "registry: already running on $REGISTRY_ADDR"
  exit 0
fi
stop_daemon registry 5   # a half-alive one from an earlier run
require_free_port registry "${REGISTRY_ADDR##*:}"

mkdir -p "$dir/data"
if [[ ! -s $pwfile ]]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$pwfile")
fi
chmod 600 "$pwfile"
# htpasswd -i reads the password from stdin (-b would put it in argv); -B = bcrypt, which
# distribution's htpasswd auth requires.
htpasswd -iBn "$REGISTRY_USER" <"$pwfile" >"$dir/htpasswd" 2>/dev/null
chmod 600 "$dir/htpasswd"

cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
auth:
  htpasswd:
    realm: demon-e2e
    path: $dir/htpasswd
YAML
chmod 600 "$dir/config.yml"

start_daemon registry docker-registry serve "$dir/config.yml"
wait_for registry 30 ready
log "registry: up on $REGISTRY_ADDR (user $REGISTRY_USER, password in $pwfile)"
