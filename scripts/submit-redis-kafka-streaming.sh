#!/usr/bin/env bash
# Replaces the seed's submit-redis-kafka-streaming.sh: prints the customers decoded from the
# redis-server topic and appends them to logs/redis-kafka.log.
# Extra arguments go to `stedi redis-console` (see `stedi redis-console --help`).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run_teed redis-kafka.log redis-console "$@"
