#!/usr/bin/env bash
# Replaces the seed's submit-event-kafkajoin.sh: joins customers with risk scores into stedi-graph,
# printing the joined rows and appending them to logs/kafkajoin.log.
# Extra arguments go to `stedi join` (see `stedi join --help`).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run_teed kafkajoin.log join --console "$@"
