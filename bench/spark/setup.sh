#!/usr/bin/env bash
# Installs the Spark Structured Streaming baseline of `npm run bench -- --vs spark`, on demand and
# idempotently: PySpark (pip, in a venv) and only its Kafka connector jars (mvn), all under the
# git-ignored .cache/spark. Progress goes to stderr; the last two stdout lines are what the bench needs:
#   python=<the venv's python>
#   jars=<comma-separated connector jars, for spark.jars>
#
# SPARK_VERSION may override the pin. 4.2.0 is the newest version with both a PySpark release and
# spark-sql-kafka-0-10_2.13 on Maven Central (PySpark 4.3.0 and 4.2.1 exist, their connectors do not).
set -euo pipefail

SPARK_VERSION=${SPARK_VERSION:-4.2.0}
SCALA_BINARY=2.13 # PySpark 4.x is built for Scala 2.13 only
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR="$ROOT/.cache/spark"
VENV="$DIR/venv-$SPARK_VERSION"
JARS="$DIR/jars-$SPARK_VERSION"
MARKER="$DIR/installed-$SPARK_VERSION"
POM="$HERE/pom.xml"
CONNECTOR_JARS="spark-sql-kafka-0-10_$SCALA_BINARY,spark-token-provider-kafka-0-10_$SCALA_BINARY,kafka-clients,commons-pool2"

say() { printf 'spark setup: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

print_result() {
  local jar list=""
  for jar in "$JARS"/*.jar; do list+="${list:+,}$jar"; done
  printf 'python=%s\njars=%s\n' "$VENV/bin/python" "$list"
}

# What a completed install was made from: a changed pom or version means install again.
fingerprint() { printf '%s %s\n' "$SPARK_VERSION" "$(sha256sum "$POM" | cut -d' ' -f1)"; }

installed() { [[ -f $MARKER && $(cat "$MARKER") == "$(fingerprint)" && -x $VENV/bin/python ]]; }

mkdir -p -- "$DIR"
if installed; then
  print_result
  exit 0
fi

# Two benches starting at once must not install into the same folders together.
exec 9>"$DIR/.setup.lock"
flock 9
if installed; then
  print_result
  exit 0
fi

command -v java >/dev/null 2>&1 || die "java not found; Spark 4 needs Java 17+ (e.g. apt-get install openjdk-17-jre-headless)"
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
[[ ${java_major:-0} -ge 17 ]] || die "Spark 4 needs Java 17+, found '${java_major:-unknown}'"
command -v mvn >/dev/null 2>&1 || die "mvn not found; install Maven 3.6+ (e.g. apt-get install maven) to fetch the Kafka connector jars"
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; PySpark $SPARK_VERSION needs Python 3.10+"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "PySpark $SPARK_VERSION needs Python 3.10+, found $("$PYTHON" --version 2>&1)"

started=$SECONDS
rm -f -- "$MARKER"

# The connector first: it fails in seconds where a PySpark release has no connector on Maven Central.
say "fetching spark-sql-kafka-0-10_$SCALA_BINARY $SPARK_VERSION jars into ${JARS#"$ROOT"/} (mvn)"
# copy-dependencies never deletes: stale jars of another resolution would end up in spark.jars.
rm -rf -- "$JARS"
mkdir -p -- "$JARS"
if ! out=$(mvn -q -B -f "$POM" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -Dspark.version="$SPARK_VERSION" -Dscala.binary="$SCALA_BINARY" -DoutputDirectory="$JARS" \
  -DincludeArtifactIds="$CONNECTOR_JARS" -Dstyle.color=never 2>&1); then
  printf '%s\n' "$out" >&2
  die "mvn could not fetch spark-sql-kafka-0-10_$SCALA_BINARY:$SPARK_VERSION (output above); it must match PySpark exactly, and 4.2.0 is known to exist"
fi
count=$(find "$JARS" -name '*.jar' | wc -l)
[[ $count -eq 4 ]] || die "expected 4 connector jars in ${JARS#"$ROOT"/}, found $count"

say "installing pyspark==$SPARK_VERSION into ${VENV#"$ROOT"/} (pip; a few hundred MB)"
if [[ ! -x $VENV/bin/python ]]; then
  "$PYTHON" -m venv "$VENV" || die "could not create a venv (Debian: apt-get install python3-venv)"
fi
"$VENV/bin/python" -m pip install --quiet --no-input "pyspark==$SPARK_VERSION" ||
  die "pip could not install pyspark==$SPARK_VERSION (output above)"
installed_version=$("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)') ||
  die "pyspark does not import from ${VENV#"$ROOT"/}"
[[ $installed_version == "$SPARK_VERSION" ]] ||
  die "pip installed pyspark $installed_version, expected $SPARK_VERSION (the connector jars must match it exactly)"

fingerprint >"$MARKER"
say "installed PySpark $SPARK_VERSION and $count connector jars in $((SECONDS - started)) s"
print_result
