#!/usr/bin/env bash
# Runs the nightly from cron: never two at once (flock), each run logging into its own run
# directory. Credentials come from an env file readable only by you, never from the crontab.
#
#   crontab -e:
#   17 3 * * * PATH=/usr/local/bin:/usr/bin:/bin /path/to/demon-bootstrap/scripts/nightly-cron.sh --config config/nightly.yaml
#
# Env: DEMON_NIGHTLY_ENV   file of `export NAME=value` lines (default ~/.config/demon/nightly.env)
#      DEMON_NIGHTLY_LOCK  lock file (default ${XDG_RUNTIME_DIR:-/tmp}/demon-nightly.lock)
set -euo pipefail
cd "$(dirname "$0")/.."

lock=${DEMON_NIGHTLY_LOCK:-${XDG_RUNTIME_DIR:-/tmp}/demon-nightly.lock}
exec 9>>"$lock"
if ! flock --nonblock 9; then
  echo "another nightly holds $lock; not starting a second one" >&2
  exit 0
fi

env_file=${DEMON_NIGHTLY_ENV:-$HOME/.config/demon/nightly.env}
if [[ -f "$env_file" ]]; then
  if [[ $(( 8#$(stat -c %a "$env_file") & 8#077 )) -ne 0 ]]; then
    echo "$env_file is readable by others; run: chmod 600 $env_file" >&2
    exit 2
  fi
  # shellcheck disable=SC1090
  source "$env_file"
fi

run_dir="artifacts/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir"
echo "nightly: logging to $run_dir/nightly.log" >&2
exec node --import tsx scripts/nightly.mts --run-dir "$run_dir" "$@" >"$run_dir/nightly.log" 2>&1
