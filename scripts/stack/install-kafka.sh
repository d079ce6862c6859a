#!/usr/bin/env bash
# Resolves the Apache Kafka broker runtime (KRaft, single node) from Maven Central into a version-keyed
# cache directory: kafka_2.13 plus a log4j2 backend for its slf4j logging. Prints the libs directory.
# Idempotent: exits at once when the jars are already there.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="2.24.3"
CACHE_ROOT="${OKJ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-kafka-jaeger}"
DEST="$CACHE_ROOT/kafka/$KAFKA_VERSION"
LIBS="$DEST/libs"

if [[ -f "$DEST/.complete" ]]; then
  echo "$LIBS"
  exit 0
fi

command -v mvn >/dev/null || { echo "install-kafka: 'mvn' is not on PATH; install Maven" >&2; exit 1; }
command -v java >/dev/null || { echo "install-kafka: 'java' is not on PATH; install a JDK >= 17" >&2; exit 1; }

mkdir -p "$DEST"
cat >"$DEST/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>okj.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
echo "install-kafka: resolving Kafka $KAFKA_VERSION jars from Maven Central" >&2
rm -rf "$LIBS.tmp"
mvn -B -q -f "$DEST/pom.xml" \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" >&2
rm -rf "$LIBS"
mv "$LIBS.tmp" "$LIBS"
cat >"$DEST/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.storage
        level: WARN
YAML
touch "$DEST/.complete"
echo "$LIBS"
