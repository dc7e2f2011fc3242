#!/usr/bin/env bash
# Replaces the seed's submit-event-kafkastreaming.sh (spark-submit sparkpykafkajoin's events job):
# prints risk scores from stedi-events and appends them to logs/eventstream.log.
# Extra arguments go to `stedi events-console` (see `stedi events-console --help`).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run_teed eventstream.log events-console "$@"
