#!/usr/bin/env bash
# Interop suite: the official RocketMQ clients against our servers.
#
# Builds mqnamesrv/mqbroker/mqadmin, starts one name server and one broker on free 127.0.0.1
# ports (store in a temp dir), then runs the Java suite (rocketmq-client + rocketmq-tools 4.8.0)
# and the Go suite (rocketmq-client-go v2.0.0). Prints PASS/FAIL per suite and exits non-zero on
# any failure; the server logs are printed when something fails. See interop/README.md.
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), CARGO (default cargo),
# INTEROP_SUITES (default "java go"), INTEROP_KEEP=1 keeps the temp dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CARGO="${CARGO:-cargo}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/debug"
SUITES="${INTEROP_SUITES:-java go}"
START=$SECONDS

log() { printf '[interop %3ds] %s\n' "$((SECONDS - START))" "$*"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rmq-interop.XXXXXX")"
NS_PID=""
BROKER_PID=""
FAILED=0

dump_logs() {
    for f in "$WORK"/namesrv.log "$WORK"/broker.log; do
        [[ -f "$f" ]] || continue
        echo "===== $(basename "$f") (last 200 lines) ====="
        tail -n 200 "$f"
    done
}

cleanup() {
    local rc=$?
    # Broker before name server, so it can unregister.
    local pid
    for pid in $BROKER_PID $NS_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ $rc -ne 0 || $FAILED -ne 0 ]]; then
        dump_logs
    fi
    if [[ "${INTEROP_KEEP:-0}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port p on 127.0.0.1 with p (clients) and p-2 (the VIP channel) both free.
free_broker_port() {
    python3 - <<'PY'
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    if p < 1100:
        s.close(); continue
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p - 2))
    except OSError:
        s.close(); continue
    t.close(); s.close(); print(p); break
PY
}

# Waits until `file` has a line matching `pattern` (or the process `pid` dies); prints that line.
wait_line() {
    local file=$1 pattern=$2 pid=$3 i
    for ((i = 0; i < 300; i++)); do
        if grep -m1 -E "$pattern" "$file" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "process $pid exited before printing /$pattern/" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "timed out waiting for /$pattern/ in $file" >&2
    return 1
}

wait_port() {
    local port=$1 i
    for ((i = 0; i < 300; i++)); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.5).close()" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "port $port never opened" >&2
    return 1
}

log "building mqnamesrv, mqbroker, mqadmin (target dir $TARGET_DIR)"
CARGO_TARGET_DIR="$TARGET_DIR" "$CARGO" build -q -p rmq-namesrv -p rmq-broker -p rmq-admin --bins

# --- servers -----------------------------------------------------------------------------------
printf 'kvConfigPath=%s\n' "$WORK/namesrv/kvConfig.json" >"$WORK/namesrv.conf"
mkdir -p "$WORK/namesrv"
NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" "$BIN/mqnamesrv" -c "$WORK/namesrv.conf" -p 0 >"$WORK/namesrv.log" 2>&1 &
NS_PID=$!
NS_LINE="$(wait_line "$WORK/namesrv.log" 'boot success.*listen=' "$NS_PID")"
NAMESRV="${NS_LINE##*listen=}"
NAMESRV="${NAMESRV%%[[:space:]]*}"
log "mqnamesrv listening on $NAMESRV"

CLUSTER=InteropCluster
BROKER_NAME=interop-broker-a
# The port is picked, then released, then bound by the broker: retry if something else took it.
for attempt in 1 2 3; do
    PORT="$(free_broker_port)"
    BROKER_ADDR="127.0.0.1:$PORT"
    cat >"$WORK/broker.conf" <<CONF
brokerClusterName=$CLUSTER
brokerName=$BROKER_NAME
brokerId=0
listenPort=$PORT
namesrvAddr=$NAMESRV
brokerIP1=127.0.0.1
storePathRootDir=$WORK/store
autoCreateTopicEnable=false
flushDiskType=ASYNC_FLUSH
CONF
    NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" "$BIN/mqbroker" -c "$WORK/broker.conf" >"$WORK/broker.log" 2>&1 &
    BROKER_PID=$!
    if wait_line "$WORK/broker.log" 'boot success' "$BROKER_PID" >/dev/null; then
        break
    fi
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
    [[ $attempt -lt 3 ]] || { echo "mqbroker did not start" >&2; exit 1; }
    log "mqbroker did not start on port $PORT (attempt $attempt), retrying"
done
wait_port "$PORT"
wait_port "$((PORT - 2))"
log "mqbroker $BROKER_NAME listening on $BROKER_ADDR (VIP $((PORT - 2))), cluster $CLUSTER"

# --- suites ------------------------------------------------------------------------------------
run_java() {
    local dir="$HERE/java"
    # Skip Maven when target/lib was filled from this very pom.xml (saves ~20 s on reruns).
    local stamp
    stamp="$(cksum <"$dir/pom.xml")"
    if [[ "$(cat "$dir/target/lib/.pom-stamp" 2>/dev/null)" != "$stamp" ]]; then
        log "java: resolving rocketmq-client/rocketmq-tools 4.8.0 with Maven"
        rm -rf "$dir/target/lib"
        if ! (cd "$dir" && mvn -B -Dstyle.color=never dependency:copy-dependencies \
            -DoutputDirectory=target/lib >"$WORK/maven.log" 2>&1); then
            cat "$WORK/maven.log"
            return 1
        fi
        echo "$stamp" >"$dir/target/lib/.pom-stamp"
    fi
    log "java: compiling"
    rm -rf "$dir/target/classes"
    mkdir -p "$dir/target/classes"
    javac -nowarn -d "$dir/target/classes" -cp "$dir/target/lib/*" "$dir"/src/main/java/interop/*.java
    log "java: running"
    # Java 9+ needs these for the 4.8.0-era netty/fastjson; Java 8 rejects the flag.
    local opens=()
    if ! java -version 2>&1 | grep -q 'version "1\.'; then
        opens=(--add-opens java.base/java.nio=ALL-UNNAMED
            --add-opens java.base/sun.nio.ch=ALL-UNNAMED
            --add-opens java.base/java.lang=ALL-UNNAMED)
    fi
    java ${opens[@]+"${opens[@]}"} \
        -Drocketmq.home.dir="$dir/home" \
        -Drocketmq.client.logRoot="$WORK/java-logs" \
        -Drocketmq.client.logLevel=WARN \
        -Dinterop.schedule="$([[ "${INTEROP_SCHEDULE:-1}" == 1 ]] && echo true || echo false)" \
        -cp "$dir/target/classes:$dir/target/lib/*" \
        interop.Interop "$NAMESRV" "$CLUSTER" "$BROKER_NAME" "$BROKER_ADDR"
}

run_go() {
    local dir="$HERE/go"
    log "go: building (rocketmq-client-go v2.0.0)"
    (cd "$dir" && go build -buildvcs=false -o "$WORK/go-interop" .)
    local topic="InteropGo_$RANDOM$RANDOM"
    log "go: creating $topic with our mqadmin"
    "$BIN/mqadmin" updateTopic -n "$NAMESRV" -c "$CLUSTER" -t "$topic" -r 4 -w 4
    log "go: running"
    ROCKETMQ_GO_LOG_LEVEL="${ROCKETMQ_GO_LOG_LEVEL:-warn}" \
        "$WORK/go-interop" -namesrv "$NAMESRV" -topic "$topic"
}

SUMMARY=""
for suite in $SUITES; do
    log "===== $suite suite ====="
    set +e
    ( set -e; "run_$suite" )
    rc=$?
    set -e
    if [[ $rc -eq 0 ]]; then
        verdict=PASS
    else
        verdict=FAIL
        FAILED=1
    fi
    SUMMARY="$SUMMARY$(printf '  %-5s %s' "$verdict" "$suite")"$'\n'
    log "$suite: $verdict"
done

echo
echo "interop results ($((SECONDS - START)) s):"
printf '%s' "$SUMMARY"
exit "$FAILED"
