#!/usr/bin/env bash
# Local test stack without Docker: Apache Kafka (one KRaft broker+controller node, or a cluster of three, jars
# from Maven Central) and Redis (Debian's redis-server).
#
#   scripts/stack.sh install        fetch the Kafka jars (mvn) and install redis-server (apt-get, as root)
#   scripts/stack.sh up             start what is not already answering on its port, wait until ready
#   scripts/stack.sh down           stop what `up` started (tracked by pid files under .stack/)
#   scripts/stack.sh status         one line per service (and per cluster node): up/down, port, pid, who started it
#   scripts/stack.sh clean          down, then delete this stack's data and logs under .stack/
#   scripts/stack.sh tool CLASS ... run a Kafka CLI class with the cached classpath (see scripts/kafka-tool.sh)
#
# A cluster (KAFKA_NODES=3): three KRaft nodes, each broker and controller (a quorum of three), ids 1, 2, 3;
# node N's broker port is KAFKA_PORT + 10*(N-1), its controller, SASL and TLS ports that +1, +2, +3.
# Replication factor 3 and min ISR 2 for every topic, internal ones included. Data under .stack/kafka-cluster-<port>/.
#   KAFKA_NODES=3 scripts/stack.sh up     start the three nodes; prints `export KAFKA_BROKERS=...` on stdout
#   scripts/stack.sh stop-node N          stop node N (SIGTERM, controlled shutdown)
#   scripts/stack.sh kill-node N          kill node N (SIGKILL: a crash)
#   scripts/stack.sh start-node N         start node N again and wait until it serves
#   scripts/stack.sh pause-node N         freeze node N (SIGSTOP: a hung broker, a long GC pause)
#   scripts/stack.sh resume-node N        let it run again (SIGCONT)
# The node commands, and status, down and clean without KAFKA_NODES, act on the cluster that stack.sh runs on
# KAFKA_PORT. status names the active controller and the quorum's voters.
#
# Environment:
#   KAFKA_PORT=9092  KAFKA_CONTROLLER_PORT=KAFKA_PORT+1  KAFKA_SASL_PORT=KAFKA_PORT+2  KAFKA_SSL_PORT=KAFKA_PORT+3
#   KAFKA_NODES=1 (or 3: a cluster; the three port variables after KAFKA_PORT are then not accepted)
#   REDIS_PORT=6379
#   STACK_TIMEOUT=60 (seconds to wait for readiness; 120 for a cluster)
#   KAFKA_HEAP="-Xms512m -Xmx512m" (per node)   KAFKA_JVM_OPTS (extra)
#   STACK_SERVICES="kafka redis" (which services up/down/status act on)
# Everything listens on 127.0.0.1 only. SASL_PLAINTEXT listener: user stedi / stedi-secret
# (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
CONF="$ROOT/scripts/kafka"
POM="$CONF/pom.xml"
STACK_DIR="$ROOT/.stack"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)
LIB="$ROOT/.cache/kafka/lib-$KAFKA_VERSION"
LIB_MARKER="$LIB/.complete"

# Given before the defaults fill them: a cluster derives these ports from KAFKA_PORT and refuses them.
PORTS_GIVEN="${KAFKA_CONTROLLER_PORT:+ KAFKA_CONTROLLER_PORT}${KAFKA_SASL_PORT:+ KAFKA_SASL_PORT}${KAFKA_SSL_PORT:+ KAFKA_SSL_PORT}"
PORTS_GIVEN=${PORTS_GIVEN# }
TIMEOUT_GIVEN=${STACK_TIMEOUT:-}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_SASL_PORT=${KAFKA_SASL_PORT:-$((KAFKA_PORT + 2))}
KAFKA_SSL_PORT=${KAFKA_SSL_PORT:-$((KAFKA_PORT + 3))}
REDIS_PORT=${REDIS_PORT:-6379}
STACK_TIMEOUT=${STACK_TIMEOUT:-60}
KAFKA_HEAP=${KAFKA_HEAP:--Xms512m -Xmx512m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:-}
STACK_SERVICES=${STACK_SERVICES:-kafka redis}

KAFKA_DIR="$STACK_DIR/kafka-$KAFKA_PORT"
KAFKA_PID_FILE="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"
KAFKA_TLS_DIR="$KAFKA_DIR/tls"
KAFKA_LABEL=kafka # how messages name the node the kafka_* functions act on (use_node changes it)
NODE_ID=           # empty for the single node; a cluster node's id after use_node
REDIS_DIR="$STACK_DIR/redis-$REDIS_PORT"
REDIS_PID_FILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

SCRAM_USER=stedi
SCRAM_PASSWORD=stedi-secret

# One-shot CLI JVMs: small heap, C1 only, serial GC (start faster).
TOOL_JVM=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$CONF/log4j2-tools.properties")

say() { printf 'stack: %s\n' "$*" >&2; }
die() {
  printf 'stack: error: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------- helpers

tcp_open() { # host port -> 0 if something accepts a TCP connection
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

pid_cmdline_has() { # pid needle
  [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# Pid recorded in FILE if that process is alive and is ours (cmdline contains NEEDLE); removes stale files.
tracked_pid() { # file needle
  local pid
  [[ -f $1 ]] || return 1
  pid=$(tr -dc '0-9' <"$1")
  if pid_alive "$pid" && pid_cmdline_has "$pid" "$2"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f -- "$1"
  return 1
}

now() { date +%s; }

# One `status` line. Our own process (PID_FN prints its tracked pid) is up once READY_FN succeeds, and
# starting before; without one, whatever passes ANSWERS_FN on the port is external. DETAIL follows "up".
service_status() { # name port pid_fn ready_fn answers_fn [detail]
  local name=$1 port=$2 pid_fn=$3 ready_fn=$4 answers_fn=$5 detail=${6:+ $6} pid
  if pid=$("$pid_fn"); then
    if "$ready_fn"; then
      echo "$name  up        port $port  pid $pid  started by stack.sh$detail"
    else
      echo "$name  starting  port $port  pid $pid  started by stack.sh"
    fi
  elif "$answers_fn"; then
    echo "$name  up        port $port  pid -  external (not started by stack.sh)"
  else
    echo "$name  down      port $port"
  fi
}

# Serialise concurrent up/down of the same service+port (flock, when available). The lock fds (8 redis, 9 kafka)
# are closed for the long-running servers so that the lock ends with this script.
lock_service() { # redis|kafka port
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p -- "$STACK_DIR"
  local f="$STACK_DIR/$1-$2.lock"
  if [[ $1 == redis ]]; then exec 8>"$f"; else exec 9>"$f"; fi
  if [[ $1 == redis ]]; then flock -w "$((STACK_TIMEOUT + 120))" 8; else flock -w "$((STACK_TIMEOUT + 120))" 9; fi ||
    die "$1: another stack.sh holds ${f#"$ROOT"/} for too long"
}

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found; install a Java 17+ JDK/JRE (e.g. apt-get install openjdk-17-jre-headless)"
  local v
  v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [[ ${v:-0} -ge 17 ]] || die "Kafka $KAFKA_VERSION needs Java 17+, found '${v:-unknown}'; install openjdk-17-jre-headless or newer"
}

# ---------------------------------------------------------------------------------------------- install

pom_sum() { sha256sum "$POM" | cut -d' ' -f1; }

jars_ready() { [[ -f $LIB_MARKER && $(cat "$LIB_MARKER") == "$(pom_sum)" ]]; }

fetch_jars() {
  jars_ready && return 0
  require_java
  command -v mvn >/dev/null 2>&1 || die "mvn not found; install Maven 3.6+ (e.g. apt-get install maven) to fetch the Kafka jars"
  say "fetching Kafka $KAFKA_VERSION jars into ${LIB#"$ROOT"/} (mvn)"
  # copy-dependencies never deletes: two versions of a jar in one 'LIB/*' classpath would clash.
  rm -rf -- "$LIB"
  mkdir -p -- "$LIB"
  local out
  if ! out=$(mvn -q -B -f "$POM" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$LIB" -Dmdep.prependGroupId=true -Dstyle.color=never 2>&1); then
    printf '%s\n' "$out" >&2
    die "mvn could not fetch the Kafka jars (output above)"
  fi
  pom_sum >"$LIB_MARKER"
  say "fetched $(find "$LIB" -name '*.jar' | wc -l) jars"
}

install_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "redis-server not found; install Redis 7 (Debian/Ubuntu: sudo apt-get install -y redis-server)"
  fi
  say "installing redis-server (apt-get)"
  # Keep the package from auto-starting its own service (it would sit on 6379 with persistence on).
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >&2 || rc=$?
  [[ $added -eq 1 ]] && rm -f -- "$policy"
  [[ $rc -eq 0 ]] || die "apt-get install redis-server failed"
  command -v redis-server >/dev/null 2>&1 || die "redis-server still not found after apt-get install"
}

# ---------------------------------------------------------------------------------------------- kafka

kafka_tool() { # class args...
  local class=$1
  shift
  [[ $class == *.* ]] || class="org.apache.kafka.tools.$class"
  java "${TOOL_JVM[@]}" -cp "$LIB/*" "$class" "$@"
}

# A private CA, a broker certificate for 127.0.0.1 and a client certificate, as PEM files: the TLS
# listener (mutual TLS) uses them, and tests point clients at ca.pem, client.pem and client.key.
kafka_tls_files() {
  local dir=$KAFKA_TLS_DIR
  [[ -f $dir/broker.pem && -f $dir/client.key ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found; install it (apt-get install openssl) for the TLS listener"
  mkdir -p -- "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=stedi local CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    for name in broker client; do
      openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=stedi $name"
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$name.ext"
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" -days 3650 \
        -extfile "$name.ext"
    done
    # Kafka's PEM key store: the private key (PKCS#8, unencrypted) followed by its certificate.
    cat broker.key broker.pem >broker-keystore.pem
    rm -f -- ./*.csr ./*.ext ca.srl
  ) >/dev/null 2>&1 || die "$KAFKA_LABEL: could not create the TLS certificates in ${dir#"$ROOT"/}"
}

kafka_render_config() {
  mkdir -p -- "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  kafka_tls_files
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@SASL_PORT@|$KAFKA_SASL_PORT|g" -e "s|@SSL_PORT@|$KAFKA_SSL_PORT|g" \
    -e "s|@TLS_DIR@|$KAFKA_TLS_DIR|g" -e "s|@DATA_DIR@|$KAFKA_DIR/data|g" \
    "$CONF/server.properties" >"$KAFKA_DIR/server.properties"
  [[ -z $NODE_ID ]] || cluster_node_config
  # Client config for the SASL listener (handy for CLI tools: --command-config).
  cat >"$KAFKA_DIR/client-scram.properties" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$SCRAM_USER" password="$SCRAM_PASSWORD";
EOF
}

# Cluster id as Uuid.randomUuid() makes it: 16 random bytes, base64url without padding, not starting with '-'.
random_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id != -* && $id != AAAAAAAAAAAAAAAAAAAAAA && $id != AAAAAAAAAAAAAAAAAAAAAQ ]] && break
  done
  printf '%s\n' "$id"
}

kafka_format() { # [cluster id: every node of a cluster is formatted with the same one]
  [[ -f $KAFKA_DIR/data/meta.properties ]] && return 0
  local out id=${1:-}
  [[ -n $id ]] || id=$(random_cluster_id)
  say "$KAFKA_LABEL: formatting ${KAFKA_DIR#"$ROOT"/}/data (SCRAM user $SCRAM_USER)"
  if ! out=$(kafka_tool kafka.tools.StorageTool format -t "$id" -c "$KAFKA_DIR/server.properties" \
    --add-scram "SCRAM-SHA-256=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" 2>&1); then
    printf '%s\n' "$out" >&2
    die "$KAFKA_LABEL: StorageTool format failed"
  fi
}

kafka_pid() { tracked_pid "$KAFKA_PID_FILE" "$KAFKA_DIR/server.properties"; }

kafka_kill_now() { # pid: half-started broker
  kill -TERM "$1" 2>/dev/null || true
  local i
  for ((i = 0; i < 20; i++)); do pid_alive "$1" || break; sleep 0.25; done
  kill -KILL "$1" 2>/dev/null || true
  rm -f -- "$KAFKA_PID_FILE"
}

kafka_wait_ready() { # pid deadline [port-only]
  local pid=$1 deadline=$2
  while ! tcp_open 127.0.0.1 "$KAFKA_PORT"; do
    pid_alive "$pid" || {
      rm -f -- "$KAFKA_PID_FILE"
      tail -n 5 "$KAFKA_LOG" "$KAFKA_DIR/logs/stdout.log" >&2 2>/dev/null || true
      die "$KAFKA_LABEL: broker exited during start-up; read ${KAFKA_LOG#"$ROOT"/} (and logs/stdout.log)"
    }
    if (($(now) >= deadline)); then
      kafka_kill_now "$pid"
      die "$KAFKA_LABEL: not ready on 127.0.0.1:$KAFKA_PORT after ${STACK_TIMEOUT}s; killed it; read ${KAFKA_LOG#"$ROOT"/}"
    fi
    sleep 0.2
  done
  [[ ${3:-} == port-only ]] && return 0
  # The port opens only once the broker is unfenced; confirm with a real client round trip (metadata).
  while ! kafka_tool TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >/dev/null 2>&1; do
    if (($(now) >= deadline)); then
      kafka_kill_now "$pid"
      die "$KAFKA_LABEL: port open but TopicCommand --list failed for ${STACK_TIMEOUT}s; killed it; read ${KAFKA_LOG#"$ROOT"/}"
    fi
    sleep 1
  done
}

kafka_up() {
  local pid deadline t0
  t0=$(now)
  deadline=$((t0 + STACK_TIMEOUT))
  if pid=$(kafka_pid); then
    if tcp_open 127.0.0.1 "$KAFKA_PORT"; then
      say "$KAFKA_LABEL: already up on 127.0.0.1:$KAFKA_PORT (pid $pid, started by stack.sh)"
      return 0
    fi
    say "$KAFKA_LABEL: pid $pid (ours) is still starting; waiting"
    kafka_wait_ready "$pid" "$deadline"
    say "$KAFKA_LABEL: ready on 127.0.0.1:$KAFKA_PORT (pid $pid)"
    return 0
  fi
  if tcp_open 127.0.0.1 "$KAFKA_PORT"; then
    say "$KAFKA_LABEL: something already answers on 127.0.0.1:$KAFKA_PORT; reusing it (not started by stack.sh)"
    return 0
  fi
  local p
  for p in "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT" "$KAFKA_SSL_PORT"; do
    tcp_open 127.0.0.1 "$p" && die "$KAFKA_LABEL: port $p (controller/SASL, for broker port $KAFKA_PORT) is already in use"
  done
  fetch_jars
  require_java
  kafka_render_config
  kafka_format
  deadline=$(($(now) + STACK_TIMEOUT)) # the readiness budget excludes fetching jars and formatting
  kafka_launch
  pid=$LAUNCHED_PID
  kafka_wait_ready "$pid" "$deadline"
  say "$KAFKA_LABEL: ready on 127.0.0.1:$KAFKA_PORT (pid $pid, $(($(now) - t0))s)"
}

# Starts the configured, formatted node in the background; its pid goes to the pid file and LAUNCHED_PID.
kafka_launch() {
  # Keep the previous run's logs one generation back; the new run starts with empty files.
  local f pid
  for f in "$KAFKA_LOG" "$KAFKA_DIR/logs/stdout.log"; do
    if [[ -s $f ]]; then mv -f -- "$f" "$f.prev"; fi
  done
  say "$KAFKA_LABEL: starting $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, SASL $KAFKA_SASL_PORT, TLS $KAFKA_SSL_PORT)"
  local -a heap extra
  read -r -a heap <<<"$KAFKA_HEAP"
  read -r -a extra <<<"$KAFKA_JVM_OPTS"
  # setsid + nohup + no inherited stdio: the broker outlives this script and never holds the caller's pipes.
  setsid nohup java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" -Dlog4j2.configurationFile="$CONF/log4j2-broker.properties" \
    "${extra[@]}" -cp "$LIB/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/logs/stdout.log" 2>&1 </dev/null 8>&- 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$KAFKA_PID_FILE"
  LAUNCHED_PID=$pid
}

kafka_down() {
  local pid i
  if ! pid=$(kafka_pid); then
    if tcp_open 127.0.0.1 "$KAFKA_PORT"; then
      say "$KAFKA_LABEL: 127.0.0.1:$KAFKA_PORT was not started by stack.sh; leaving it running"
    else
      say "$KAFKA_LABEL: not running (port $KAFKA_PORT)"
    fi
    return 0
  fi
  say "$KAFKA_LABEL: stopping pid $pid (SIGTERM, controlled shutdown)"
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # a paused node (pause-node) acts on SIGTERM only once resumed
  for ((i = 0; i < 100; i++)); do pid_alive "$pid" || break; sleep 0.2; done
  if pid_alive "$pid"; then
    say "$KAFKA_LABEL: still running after 20s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 25; i++)); do pid_alive "$pid" || break; sleep 0.2; done
  fi
  rm -f -- "$KAFKA_PID_FILE"
  say "$KAFKA_LABEL: stopped"
}

kafka_answers() { tcp_open 127.0.0.1 "$KAFKA_PORT"; }

kafka_status() {
  service_status kafka "$KAFKA_PORT" kafka_pid kafka_answers kafka_answers \
    "(sasl $KAFKA_SASL_PORT, tls $KAFKA_SSL_PORT, controller $KAFKA_CONTROLLER_PORT)"
}

# ---------------------------------------------------------------------------------------------- cluster
# KAFKA_NODES nodes under .stack/kafka-cluster-<KAFKA_PORT>/: `nodes` (their count) and `cluster.id`, written by
# `up`; tls/ (one CA and broker certificate for all nodes); node-N/ (config, data, logs, pid) per node.
# use_node points the kafka_* functions above at one node, so each node is started, checked and stopped as the
# single node is.

CLUSTER_PORT=$KAFKA_PORT # node 1's broker port
NODE_PORT_STEP=10        # from one node's ports to the next's
CLUSTER_DIR="$STACK_DIR/kafka-cluster-$KAFKA_PORT"

node_port() { echo $((CLUSTER_PORT + NODE_PORT_STEP * ($1 - 1))); } # id -> broker port

use_node() { # id
  NODE_ID=$1
  KAFKA_PORT=$(node_port "$1")
  KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
  KAFKA_SASL_PORT=$((KAFKA_PORT + 2))
  KAFKA_SSL_PORT=$((KAFKA_PORT + 3))
  KAFKA_DIR="$CLUSTER_DIR/node-$1"
  KAFKA_PID_FILE="$KAFKA_DIR/kafka.pid"
  KAFKA_LOG="$KAFKA_DIR/logs/server.log"
  KAFKA_TLS_DIR="$CLUSTER_DIR/tls"
  KAFKA_LABEL="kafka node $1"
}

cluster_list() { # offset (0 brokers, 1 controllers) [id@] -> comma-separated 127.0.0.1 addresses of every node
  local i out=''
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    out+="${out:+,}${2:+$i@}127.0.0.1:$(($(node_port "$i") + $1))"
  done
  printf '%s\n' "$out"
}

recorded_nodes() { [[ -f $CLUSTER_DIR/nodes ]] && tr -dc '0-9' <"$CLUSTER_DIR/nodes"; }

# True when a node of the cluster recorded for KAFKA_PORT runs (a process stack.sh started, paused or not).
cluster_running() {
  local n i
  n=$(recorded_nodes) || return 1
  for ((i = 1; i <= n; i++)); do
    if (use_node "$i" && kafka_pid >/dev/null); then return 0; fi
  done
  return 1
}

node_paused() { [[ $(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) == [Tt] ]]; }

# The node's server.properties, rendered from the single node's template: the keys of cluster.properties
# replace the template's own.
cluster_node_config() {
  local file=$KAFKA_DIR/server.properties keys
  keys=$(sed -n 's/^\([a-z][a-z0-9.]*\)=.*/\1/p' "$CONF/cluster.properties" | paste -sd '|')
  {
    printf '# Node %s of a %s-node cluster: the lines after the template come from scripts/kafka/cluster.properties.\n' \
      "$NODE_ID" "$KAFKA_NODES"
    grep -Ev "^($keys)=" "$file"
    echo
    sed -e "s|@NODE_ID@|$NODE_ID|g" -e "s|@QUORUM_VOTERS@|$(cluster_list 1 ids)|g" "$CONF/cluster.properties"
  } >"$file.tmp"
  mv -f -- "$file.tmp" "$file"
}

cluster_up() {
  local t0 deadline i p pid id entry
  local -a start=() waiting=()
  t0=$(now)
  if pid=$(kafka_pid); then
    die "kafka: a single-node Kafka from stack.sh runs on 127.0.0.1:$KAFKA_PORT (pid $pid); stop it first (KAFKA_NODES=1 scripts/stack.sh down) or give the cluster another KAFKA_PORT"
  fi
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    use_node "$i"
    if pid=$(kafka_pid); then
      node_paused "$pid" && die "$KAFKA_LABEL: paused (pid $pid); resume it first: scripts/stack.sh resume-node $i"
      if tcp_open 127.0.0.1 "$KAFKA_PORT"; then
        say "$KAFKA_LABEL: already up on 127.0.0.1:$KAFKA_PORT (pid $pid, started by stack.sh)"
      else
        say "$KAFKA_LABEL: pid $pid (ours) is still starting; waiting"
        waiting+=("$i:$pid")
      fi
      continue
    fi
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT" "$KAFKA_SSL_PORT"; do
      tcp_open 127.0.0.1 "$p" && die "$KAFKA_LABEL: port $p is already in use by something this cluster did not start"
    done
    start+=("$i")
  done
  if ((${#start[@]} > 0)); then
    fetch_jars
    require_java
    mkdir -p -- "$CLUSTER_DIR"
    printf '%s\n' "$KAFKA_NODES" >"$CLUSTER_DIR/nodes"
    [[ -s $CLUSTER_DIR/cluster.id ]] || random_cluster_id >"$CLUSTER_DIR/cluster.id"
    id=$(cat "$CLUSTER_DIR/cluster.id")
    for i in "${start[@]}"; do
      use_node "$i"
      kafka_render_config
      kafka_format "$id"
    done
    # All nodes start before any is waited for: none serves until a majority of controllers has elected a leader.
    for i in "${start[@]}"; do
      use_node "$i"
      kafka_launch
      waiting+=("$i:$LAUNCHED_PID")
    done
  fi
  deadline=$(($(now) + STACK_TIMEOUT))
  # Each node's port opens once it is unfenced; one metadata round trip, on the last, confirms the cluster serves.
  for entry in "${waiting[@]}"; do
    use_node "${entry%%:*}"
    kafka_wait_ready "${entry#*:}" "$deadline" "$([[ $entry != "${waiting[-1]}" ]] && echo port-only)"
    say "$KAFKA_LABEL: ready on 127.0.0.1:$KAFKA_PORT (pid ${entry#*:})"
  done
  say "kafka: $KAFKA_NODES nodes up ($(($(now) - t0))s); stedi's brokers: KAFKA_BROKERS=$(cluster_list 0)"
  printf 'export KAFKA_BROKERS=%s\n' "$(cluster_list 0)"
}

# Stops every node at once (SIGTERM: controlled shutdowns in parallel, granted while the quorum stands). A node
# still running once a majority has exited cannot have its own shutdown granted any more (no quorum to record
# it): after 10 s more it gets SIGKILL, as does any node still running after 30 s.
cluster_down() {
  local i j pid alive t0 lost=''
  local -a pids=() ids=()
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    use_node "$i"
    if pid=$(kafka_pid); then
      say "$KAFKA_LABEL: stopping pid $pid (SIGTERM, controlled shutdown)"
      kill -TERM "$pid" 2>/dev/null || true
      kill -CONT "$pid" 2>/dev/null || true
      pids+=("$pid")
      ids+=("$i")
    elif tcp_open 127.0.0.1 "$KAFKA_PORT"; then
      say "$KAFKA_LABEL: 127.0.0.1:$KAFKA_PORT was not started by stack.sh; leaving it running"
    else
      say "$KAFKA_LABEL: not running (port $KAFKA_PORT)"
    fi
  done
  t0=$(now)
  while :; do
    alive=0
    for pid in "${pids[@]}"; do if pid_alive "$pid"; then alive=$((alive + 1)); fi; done
    ((alive == 0)) && break
    if [[ -z $lost ]] && ((alive <= KAFKA_NODES / 2)); then lost=$(now); fi
    if (($(now) - t0 >= 30)) || { [[ -n $lost ]] && (($(now) - lost >= 10)); }; then break; fi
    sleep 0.2
  done
  for ((i = 0; i < ${#pids[@]}; i++)); do
    use_node "${ids[i]}"
    if pid_alive "${pids[i]}"; then
      if [[ -n $lost ]]; then
        say "$KAFKA_LABEL: still running 10s after the quorum went (none left to grant its controlled shutdown); SIGKILL"
      else
        say "$KAFKA_LABEL: still running after 30s; SIGKILL"
      fi
      kill -KILL "${pids[i]}" 2>/dev/null || true
      for ((j = 0; j < 25; j++)); do pid_alive "${pids[i]}" || break; sleep 0.2; done
    fi
    rm -f -- "$KAFKA_PID_FILE"
    say "$KAFKA_LABEL: stopped"
  done
}

# The KRaft quorum as the controllers report it: sets QUORUM_LEADER (a node id, or empty) and QUORUM_VOTERS
# (ids, comma-separated). Asks only the controllers of running, unpaused nodes; fails if none answers in time.
cluster_quorum() {
  local i pid out controllers=''
  QUORUM_LEADER='' QUORUM_VOTERS=''
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    use_node "$i"
    if pid=$(kafka_pid) && ! node_paused "$pid"; then controllers+="${controllers:+,}127.0.0.1:$KAFKA_CONTROLLER_PORT"; fi
  done
  [[ -n $controllers ]] || return 1
  mkdir -p -- "$CLUSTER_DIR"
  printf 'request.timeout.ms=4000\ndefault.api.timeout.ms=8000\n' >"$CLUSTER_DIR/quorum-tool.properties"
  out=$(timeout 30 java "${TOOL_JVM[@]}" -cp "$LIB/*" org.apache.kafka.tools.MetadataQuorumCommand \
    --bootstrap-controller "$controllers" --command-config "$CLUSTER_DIR/quorum-tool.properties" \
    describe --status 2>/dev/null) || return 1
  QUORUM_LEADER=$(sed -n 's/^LeaderId:[[:space:]]*\([0-9]*\).*/\1/p' <<<"$out")
  QUORUM_VOTERS=$(sed -n 's/^CurrentVoters:[[:space:]]*//p' <<<"$out" | grep -o '"id": *[0-9]*' | tr -dc '0-9\n' | paste -sd,)
  [[ -n $QUORUM_VOTERS ]]
}

# One summary line (`kafka  up|degraded|down ...`), then one line per node.
cluster_status() {
  local i pid serving=0 running=0 controller state
  local -a lines=()
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    use_node "$i"
    if pid=$(kafka_pid); then
      running=$((running + 1))
      if node_paused "$pid"; then
        state="paused    port $KAFKA_PORT  pid $pid  started by stack.sh (SIGSTOP; scripts/stack.sh resume-node $i)"
      elif tcp_open 127.0.0.1 "$KAFKA_PORT"; then
        serving=$((serving + 1))
        state="up        port $KAFKA_PORT  pid $pid  started by stack.sh (sasl $KAFKA_SASL_PORT, tls $KAFKA_SSL_PORT, controller $KAFKA_CONTROLLER_PORT)"
      else
        state="starting  port $KAFKA_PORT  pid $pid  started by stack.sh"
      fi
    elif tcp_open 127.0.0.1 "$KAFKA_PORT"; then
      state="in use    port $KAFKA_PORT  pid -  not started by stack.sh"
    else
      state="down      port $KAFKA_PORT"
    fi
    lines+=("kafka node $i  $state")
  done
  if ((running == 0)); then
    controller='active controller: none (no node runs)'
  elif cluster_quorum && [[ -n $QUORUM_LEADER ]]; then
    controller="active controller: node $QUORUM_LEADER  voters $QUORUM_VOTERS"
    if ((QUORUM_LEADER >= 1 && QUORUM_LEADER <= KAFKA_NODES)); then lines[QUORUM_LEADER - 1]+="  active controller"; fi
  else
    controller='active controller: unknown (the quorum did not answer)'
  fi
  if ((serving == KAFKA_NODES)); then
    state=up
  elif ((running == 0)); then
    state=down
  else
    state=degraded
  fi
  printf 'kafka  %-9s %s nodes, %s serving  %s  KAFKA_BROKERS=%s\n' "$state" "$KAFKA_NODES" "$serving" "$controller" \
    "$(cluster_list 0)"
  printf '%s\n' "${lines[@]}"
}

# The node a node command names, checked against the cluster recorded for KAFKA_PORT; use_node's it.
select_node() { # command id
  local n pid
  [[ $2 =~ ^[0-9]+$ ]] || die "$1: the node id must be a number (1 to 3 for a three-node cluster), not '$2'"
  if pid=$(kafka_pid); then
    die "$1: the Kafka on KAFKA_PORT=$KAFKA_PORT is a single node (pid $pid); node commands act on a cluster (KAFKA_NODES=3 scripts/stack.sh up)"
  fi
  if ! n=$(recorded_nodes) || [[ -z $n ]]; then
    die "$1: no cluster from stack.sh on KAFKA_PORT=$KAFKA_PORT; start one with KAFKA_NODES=3 scripts/stack.sh up (with the same KAFKA_PORT)"
  fi
  KAFKA_NODES=$n
  ((10#$2 >= 1 && 10#$2 <= n)) ||
    die "$1: node $2 is not part of the cluster on KAFKA_PORT=$KAFKA_PORT; its nodes are 1 to $n (ports $(cluster_list 0))"
  use_node "$((10#$2))"
}

node_start() {
  local pid i others=0 deadline t0 p
  t0=$(now)
  if pid=$(kafka_pid); then
    node_paused "$pid" && die "$KAFKA_LABEL: paused (pid $pid), not stopped; scripts/stack.sh resume-node $NODE_ID"
    say "$KAFKA_LABEL: already running (pid $pid)"
    return 0
  fi
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT" "$KAFKA_SSL_PORT"; do
    tcp_open 127.0.0.1 "$p" && die "$KAFKA_LABEL: port $p is already in use by something this cluster did not start"
  done
  local id=$NODE_ID
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    ((i == id)) && continue
    if (use_node "$i" && kafka_pid >/dev/null); then others=$((others + 1)); fi
  done
  ((others > 0)) ||
    die "$KAFKA_LABEL: no other node of the cluster runs, and one node alone has no quorum; start them all: KAFKA_NODES=$KAFKA_NODES scripts/stack.sh up"
  fetch_jars
  require_java
  kafka_render_config
  kafka_format "$(cat "$CLUSTER_DIR/cluster.id")"
  deadline=$(($(now) + STACK_TIMEOUT))
  kafka_launch
  kafka_wait_ready "$LAUNCHED_PID" "$deadline"
  say "$KAFKA_LABEL: ready on 127.0.0.1:$KAFKA_PORT (pid $LAUNCHED_PID, $(($(now) - t0))s)"
}

node_signal() { # pause|resume|kill
  local pid i
  pid=$(kafka_pid) || die "$KAFKA_LABEL: not running (port $KAFKA_PORT); scripts/stack.sh start-node $NODE_ID starts it"
  case $1 in
  pause)
    if node_paused "$pid"; then say "$KAFKA_LABEL: already paused (pid $pid)"; return 0; fi
    kill -STOP "$pid"
    for ((i = 0; i < 50; i++)); do node_paused "$pid" && break; sleep 0.1; done
    say "$KAFKA_LABEL: paused pid $pid (SIGSTOP); scripts/stack.sh resume-node $NODE_ID lets it run again"
    ;;
  resume)
    if ! node_paused "$pid"; then say "$KAFKA_LABEL: not paused (pid $pid)"; return 0; fi
    kill -CONT "$pid"
    say "$KAFKA_LABEL: resumed pid $pid (SIGCONT)"
    ;;
  kill)
    kill -KILL "$pid"
    for ((i = 0; i < 50; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    rm -f -- "$KAFKA_PID_FILE"
    say "$KAFKA_LABEL: killed pid $pid (SIGKILL)"
    ;;
  esac
}

# ---------------------------------------------------------------------------------------------- redis

redis_ping() { # port -> prints the first reply line of PING ('+PONG' for a usable Redis)
  local reply=''
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 2 reply <&3 || true
  exec 3<&- 3>&-
  printf '%s\n' "${reply%$'\r'}"
}

redis_pid() { tracked_pid "$REDIS_PID_FILE" "redis-server 127.0.0.1:$REDIS_PORT"; }

redis_up() {
  local pid reply
  if tcp_open 127.0.0.1 "$REDIS_PORT"; then
    reply=$(redis_ping "$REDIS_PORT" 2>/dev/null || true)
    [[ $reply == +PONG ]] || die "redis: 127.0.0.1:$REDIS_PORT is in use but PING answered '${reply:-nothing}'"
    if pid=$(redis_pid); then
      say "redis: already up on 127.0.0.1:$REDIS_PORT (pid $pid, started by stack.sh)"
    else
      say "redis: something already answers PONG on 127.0.0.1:$REDIS_PORT; reusing it (not started by stack.sh)"
    fi
    return 0
  fi
  install_redis
  mkdir -p -- "$REDIS_DIR"
  rm -f -- "$REDIS_PID_FILE"
  say "redis: starting on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
    --save '' --appendonly no --dir "$REDIS_DIR" --logfile "$REDIS_LOG" \
    --daemonize yes --pidfile "$REDIS_PID_FILE" </dev/null >&2 8>&- 9>&- ||
    die "redis: redis-server failed to start; read ${REDIS_LOG#"$ROOT"/}"
  local deadline=$(($(now) + STACK_TIMEOUT))
  until [[ $(redis_ping "$REDIS_PORT" 2>/dev/null || true) == +PONG ]]; do
    if (($(now) >= deadline)); then
      pid=$(tr -dc '0-9' <"$REDIS_PID_FILE" 2>/dev/null || true)
      if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
      rm -f -- "$REDIS_PID_FILE"
      die "redis: no PONG on 127.0.0.1:$REDIS_PORT after ${STACK_TIMEOUT}s; read ${REDIS_LOG#"$ROOT"/}"
    fi
    sleep 0.1
  done
  # The pid file is written right after the fork; wait for it briefly.
  for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -s $REDIS_PID_FILE ]] && break; sleep 0.1; done
  pid=$(redis_pid) || die "redis: answers on $REDIS_PORT but no pid file at ${REDIS_PID_FILE#"$ROOT"/}"
  say "redis: ready on 127.0.0.1:$REDIS_PORT (pid $pid)"
}

redis_down() {
  local pid i
  if ! pid=$(redis_pid); then
    if tcp_open 127.0.0.1 "$REDIS_PORT"; then
      say "redis: 127.0.0.1:$REDIS_PORT was not started by stack.sh; leaving it running"
    else
      say "redis: not running (port $REDIS_PORT)"
    fi
    return 0
  fi
  say "redis: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive "$pid" || break; sleep 0.1; done
  if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f -- "$REDIS_PID_FILE"
  say "redis: stopped"
}

redis_answers() { [[ $(redis_ping "$REDIS_PORT" 2>/dev/null || true) == +PONG ]]; }

# Our own redis-server is reported up while its tracked pid lives, without a PING (READY_FN is true).
redis_status() { service_status redis "$REDIS_PORT" redis_pid true redis_answers; }

# ---------------------------------------------------------------------------------------------- main

wants() { [[ " $STACK_SERVICES " == *" $1 "* ]]; }

usage() {
  echo "usage: scripts/stack.sh up|down|status|install|clean|tool CLASS [args...]" >&2
  echo "       scripts/stack.sh stop-node|start-node|kill-node|pause-node|resume-node N   (a cluster's node N)" >&2
  exit 2
}

# KAFKA_NODES, when not given: 1, unless a cluster from stack.sh runs on KAFKA_PORT (then up, down, status and
# clean act on it).
if [[ -n ${KAFKA_NODES:-} ]]; then
  [[ $KAFKA_NODES == 1 || $KAFKA_NODES == 3 ]] || die "KAFKA_NODES must be 1 (one node) or 3 (a cluster), not '$KAFKA_NODES'"
elif cluster_running; then
  KAFKA_NODES=$(recorded_nodes)
else
  KAFKA_NODES=1
fi
clustered() { ((KAFKA_NODES > 1)); }

cmd=${1:-}
[[ $# -gt 0 ]] && shift
if clustered || [[ $cmd == *-node ]]; then
  [[ -z $TIMEOUT_GIVEN ]] && STACK_TIMEOUT=120
  if clustered && [[ -n $PORTS_GIVEN ]]; then
    die "a cluster takes its ports from KAFKA_PORT alone (node N: KAFKA_PORT+10*(N-1), then +1, +2, +3); unset $PORTS_GIVEN"
  fi
fi
case $cmd in
install)
  fetch_jars
  install_redis
  say "install: Kafka $KAFKA_VERSION jars and redis-server are in place"
  ;;
up)
  if wants redis; then lock_service redis "$REDIS_PORT" && redis_up; fi
  if wants kafka; then
    lock_service kafka "$KAFKA_PORT"
    if clustered; then cluster_up; else kafka_up; fi
  fi
  ;;
down)
  if wants kafka; then
    lock_service kafka "$KAFKA_PORT"
    if clustered; then cluster_down; else kafka_down; fi
  fi
  if wants redis; then lock_service redis "$REDIS_PORT" && redis_down; fi
  ;;
status)
  if wants kafka; then if clustered; then cluster_status; else kafka_status; fi; fi
  if wants redis; then redis_status; fi
  ;;
clean)
  if wants kafka; then
    lock_service kafka "$KAFKA_PORT"
    if clustered; then
      cluster_down && rm -rf -- "$CLUSTER_DIR" "$STACK_DIR/kafka-$CLUSTER_PORT.lock"
    else
      kafka_down && rm -rf -- "$KAFKA_DIR" "$KAFKA_DIR.lock"
    fi
  fi
  if wants redis; then lock_service redis "$REDIS_PORT" && redis_down && rm -rf -- "$REDIS_DIR" "$REDIS_DIR.lock"; fi
  say "clean: removed data and logs under ${STACK_DIR#"$ROOT"/}"
  ;;
stop-node | start-node | kill-node | pause-node | resume-node)
  [[ $# -eq 1 ]] || usage
  lock_service kafka "$KAFKA_PORT"
  select_node "$cmd" "$1"
  case $cmd in
  stop-node) kafka_down ;;
  start-node) node_start ;;
  *) node_signal "${cmd%-node}" ;;
  esac
  ;;
tool)
  [[ $# -ge 1 ]] || usage
  fetch_jars
  require_java
  kafka_tool "$@"
  ;;
*) usage ;;
esac
