#!/usr/bin/env bash
# kafka.sh: Apache Kafka 4.1.1 (broker in KRaft mode + its own performance tools) from Maven
# Central jars, for the vs-kafka experiment (experiments/src/bin/vs-kafka.rs). Book: Part V,
# "RocketMQ vs Kafka: one log or many".
#
#   kafka.sh fetch                   download the jars once (cache, below)
#   kafka.sh run-server CONFIG       exec the broker (kafka.Kafka) with a server.properties
#   kafka.sh run-class CLASS [ARG...] exec any class with the Kafka jars (the storage tool
#                                    kafka.tools.StorageTool, org.apache.kafka.tools.TopicCommand,
#                                    org.apache.kafka.tools.ProducerPerformance, ...ConsumerPerformance)
#
# The run-* forms replace this shell with the JVM, so the caller owns the process.
# The jars are copied by `mvn dependency:copy-dependencies` (pom.xml beside this script) into
# $RMQ_KAFKA_CACHE (default $HOME/.cache/rmq-workbook/kafka-4.1.1), outside the repository.
# Kafka binds what its `listeners` say; the experiment writes 127.0.0.1 there.
# Environment: RMQ_KAFKA_CACHE, RMQ_KAFKA_HEAP (broker -Xms/-Xmx, default 1g),
# RMQ_KAFKA_TOOL_HEAP (run-class, default 512m).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${RMQ_KAFKA_CACHE:-$HOME/.cache/rmq-workbook/kafka-4.1.1}"

log() { printf '[kafka] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

fetch() {
    if [[ -f "$CACHE/kafka_2.13-4.1.1.jar" && -f "$CACHE/kafka-tools-4.1.1.jar" ]]; then
        return 0
    fi
    command -v mvn >/dev/null || die "mvn (Maven) is needed to download the Kafka 4.1.1 jars"
    log "downloading Apache Kafka 4.1.1 jars with Maven into $CACHE (first time only)"
    local build
    build="$(mktemp -d)"
    cp "$HERE/pom.xml" "$build/pom.xml"
    rm -rf "$CACHE.tmp"
    (cd "$build" && mvn -B -ntp dependency:copy-dependencies -DoutputDirectory="$CACHE.tmp" \
        | grep -E 'BUILD|ERROR' >&2) || {
        rm -rf "$build"
        die "Maven could not fetch the jars (see above)"
    }
    rm -rf "$build" "$CACHE"
    mv "$CACHE.tmp" "$CACHE"
    log "$(ls "$CACHE" | wc -l) jars in $CACHE"
}

java_opts() { # heap
    JAVA_OPTS=(-server "-Xms$1" "-Xmx$1" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
        -Djava.awt.headless=true -cp "$CACHE/*")
}

cmd="${1:-}"
shift || true
case "$cmd" in
    fetch) fetch ;;
    run-server)
        [[ -f "${1:-}" ]] || die "usage: $0 run-server SERVER_PROPERTIES"
        command -v java >/dev/null || die "java (17+) is needed"
        fetch
        java_opts "${RMQ_KAFKA_HEAP:-1g}"
        exec java "${JAVA_OPTS[@]}" kafka.Kafka "$1" </dev/null
        ;;
    run-class)
        [[ -n "${1:-}" ]] || die "usage: $0 run-class CLASS [ARG...]"
        command -v java >/dev/null || die "java (17+) is needed"
        fetch
        java_opts "${RMQ_KAFKA_TOOL_HEAP:-512m}"
        exec java "${JAVA_OPTS[@]}" "$@" </dev/null
        ;;
    *) die "usage: $0 fetch | run-server SERVER_PROPERTIES | run-class CLASS [ARG...]" ;;
esac
