#!/usr/bin/env bash
# Run a Kafka CLI class with the cached classpath of scripts/stack.sh (fetches the jars if missing).
# A bare name means org.apache.kafka.tools.NAME, e.g.
#   scripts/kafka-tool.sh TopicCommand --bootstrap-server 127.0.0.1:9092 --list
#   scripts/kafka-tool.sh consumer.group.ConsumerGroupCommand --bootstrap-server 127.0.0.1:9092 --list
#   scripts/kafka-tool.sh kafka.admin.ConfigCommand --bootstrap-server 127.0.0.1:9092 --describe --entity-type brokers
set -euo pipefail
exec "$(dirname -- "${BASH_SOURCE[0]}")/stack.sh" tool "$@"
