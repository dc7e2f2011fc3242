#!/usr/bin/env bash
# Shared by the submit-*.sh wrappers: run one stedi command from the project root and tee its
# console output to logs/, as the seed's spark-submit wrappers did.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# run_teed LOG_NAME STEDI_ARGS...: the command writes no log itself (--no-log); tee appends stdout
# to $STEDI_LOG_DIR (default logs/).
run_teed() {
  local log_name="$1"
  shift
  if [[ ! -f "$root/dist/main.js" ]]; then
    (cd "$root" && npm run -s build)
  fi
  local log_dir="${STEDI_LOG_DIR:-$root/logs}"
  mkdir -p "$log_dir"
  # tee ignores Ctrl-C so that stedi can finish its batch and still print its last lines.
  node "$root/bin/stedi.js" "$@" --no-log | (trap '' INT TERM; tee -a "$log_dir/$log_name")
}
