#!/usr/bin/env bash
# Builds the Kafka Streams peer of `npm run bench -- --vs kafka-streams`, on demand and idempotently, into
# the git-ignored .cache/kafka-streams (mvn package; the pom sets the build directory there). A fingerprint
# of the pom, the sources and the Java version decides whether to build again. Progress goes to stderr;
# the last stdout line is what the bench runs:
#   jar=<stedi-kafka-streams.jar, whose manifest names the main class and the jars in lib/ beside it>
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR="$ROOT/.cache/kafka-streams"
TARGET="$DIR/target"
JAR="$TARGET/stedi-kafka-streams.jar"
MARKER="$DIR/built"
POM="$HERE/pom.xml"

say() { printf 'kafka-streams setup: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# What a completed build was made from: the pom, every source file (path and content) and the JDK.
fingerprint() {
  {
    sha256sum "$POM"
    (cd "$HERE" && find src -type f -print0 | sort -z | xargs -0 sha256sum)
    java -version 2>&1 | head -n1
  } | sha256sum | cut -d' ' -f1
}

built() { [[ -f $MARKER && -f $JAR && $(cat "$MARKER") == "$(fingerprint)" ]]; }

command -v java >/dev/null 2>&1 || die "java not found; Kafka Streams 4 needs Java 17+ (e.g. apt-get install openjdk-17-jdk-headless)"
mkdir -p -- "$DIR"
if built; then
  printf 'jar=%s\n' "$JAR"
  exit 0
fi

# Two benches starting at once must not build into the same folder together.
exec 9>"$DIR/.setup.lock"
flock 9
if built; then
  printf 'jar=%s\n' "$JAR"
  exit 0
fi

java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
[[ ${java_major:-0} -ge 17 ]] || die "the Kafka Streams peer is built for Java 17+, found '${java_major:-unknown}'"
command -v mvn >/dev/null 2>&1 || die "mvn not found; install Maven 3.6+ (e.g. apt-get install maven) to build the Kafka Streams peer"

started=$SECONDS
rm -f -- "$MARKER"
# copy-dependencies never deletes: jars of an earlier resolution would stay on the manifest's class path.
rm -rf -- "$TARGET"
say "building bench/kafka-streams into ${TARGET#"$ROOT"/} (mvn package; the first build downloads Kafka Streams)"
if ! out=$(mvn -q -B -f "$POM" package -Dstyle.color=never 2>&1); then
  printf '%s\n' "$out" >&2
  die "mvn package failed (output above)"
fi
[[ -f $JAR ]] || die "mvn package made no ${JAR#"$ROOT"/}"
fingerprint >"$MARKER"
say "built in $((SECONDS - started)) s"
printf 'jar=%s\n' "$JAR"
