#!/usr/bin/env bash
# Store interop: a store written by the real Apache RocketMQ 4.8.0 broker, checked by rmq-inspect.
#
# 1. Downloads rocketmq-broker, rocketmq-namesrv and rocketmq-tools 4.8.0 with Maven (pom.xml
#    here; `mvn dependency:copy-dependencies` into interop/store/target/lib, once) and compiles
#    src/StoreProducer.java.
# 2. In a private network namespace (`unshare -n`: the Java servers bind the wildcard address,
#    and inside the namespace the only interface is loopback), starts the Java name server and
#    broker on ephemeral 127.0.0.1 ports with small files (commit log 64 KiB, consume queue 30
#    entries, index 250 slots / 1000 entries) so that every kind of file rolls, sends plain,
#    tagged, multi-key, compressed, batch, delayed and transactional messages, waits for the
#    delayed ones to be delivered, and stops the broker with SIGTERM (clean shutdown).
# 3. Runs `rmq-inspect verify` on that store and exits non-zero if it finds any violation or
#    the broker did not shut down cleanly.
#
# Needs: Linux with `unshare` and `ip` (root, or unprivileged user namespaces), Java 17 (or 8+)
# with javac, Maven, python3, a Rust toolchain. Environment: CARGO_TARGET_DIR (default
# <repo>/target), STORE_INTEROP_COUNT (messages, default 600), STORE_INTEROP_KEEP=1 keeps the
# temp dir (store and logs). See interop/store/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# ---------------------------------------------------------------- inside the namespace
if [[ "${1:-}" == "__inside" ]]; then
    WORK=$2
    ip link set lo up
    LIB="$HERE/target/lib"
    CP="$LIB/*:$HERE/target/classes"
    JAVA_OPTS=(-Xms128m -Xmx512m -XX:+UseG1GC
        --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
        --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED
        --add-opens java.base/java.lang.reflect=ALL-UNNAMED --add-opens java.base/java.net=ALL-UNNAMED
        --add-opens java.base/jdk.internal.ref=ALL-UNNAMED --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
        -Duser.home="$WORK" -Drocketmq.home.dir="$HERE/home")
    if ! java --add-opens java.base/java.nio=ALL-UNNAMED -version >/dev/null 2>&1; then
        JAVA_OPTS=(-Xms128m -Xmx512m -Duser.home="$WORK" -Drocketmq.home.dir="$HERE/home") # Java 8
    fi
    free_port() { # a port p with p-2 and p+1 also free (the broker's VIP and HA ports)
        python3 - <<'PY'
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    ok = p > 1100
    for q in (p - 2, p + 1):
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        t.close()
    s.close()
    if ok:
        print(p); break
PY
    }
    wait_for() { # file pattern pid
        local i
        for ((i = 0; i < 120; i++)); do
            grep -q -E "$2" "$1" 2>/dev/null && return 0
            kill -0 "$3" 2>/dev/null || { echo "process $3 died; see $1"; cat "$1"; return 1; }
            sleep 0.5
        done
        echo "timed out waiting for '$2' in $1"; cat "$1"; return 1
    }
    NS_PORT=$(free_port)
    BROKER_PORT=$(free_port)
    mkdir -p "$WORK/logs"
    cat >"$WORK/namesrv.conf" <<CONF
listenPort=$NS_PORT
kvConfigPath=$WORK/namesrv/kvConfig.json
configStorePath=$WORK/namesrv/namesrv.properties
CONF
    cat >"$WORK/broker.conf" <<CONF
brokerClusterName=StoreInteropCluster
brokerName=store-interop-broker
brokerId=0
namesrvAddr=127.0.0.1:$NS_PORT
brokerIP1=127.0.0.1
listenPort=$BROKER_PORT
storePathRootDir=$WORK/store
storePathCommitLog=$WORK/store/commitlog
mappedFileSizeCommitLog=65536
mappedFileSizeConsumeQueue=600
maxHashSlotNum=250
maxIndexNum=1000
autoCreateTopicEnable=true
flushDiskType=ASYNC_FLUSH
deleteWhen=04
fileReservedTime=720
diskMaxUsedSpaceRatio=95
CONF
    java "${JAVA_OPTS[@]}" -cp "$CP" org.apache.rocketmq.namesrv.NamesrvStartup -c "$WORK/namesrv.conf" \
        >"$WORK/logs/namesrv.out" 2>&1 &
    NS_PID=$!
    trap 'kill $NS_PID ${BROKER_PID:-} 2>/dev/null || true' EXIT
    wait_for "$WORK/logs/namesrv.out" "boot success" $NS_PID
    echo "name server up on 127.0.0.1:$NS_PORT"
    java "${JAVA_OPTS[@]}" -cp "$CP" org.apache.rocketmq.broker.BrokerStartup -c "$WORK/broker.conf" \
        >"$WORK/logs/broker.out" 2>&1 &
    BROKER_PID=$!
    wait_for "$WORK/logs/broker.out" "boot success" $BROKER_PID
    echo "broker up on 127.0.0.1:$BROKER_PORT"
    java "${JAVA_OPTS[@]}" -cp "$CP" StoreProducer "127.0.0.1:$NS_PORT" StoreInteropTopic \
        "${STORE_INTEROP_COUNT:-600}" >"$WORK/logs/producer.out" 2>&1 || {
        echo "producer failed:"; tail -n 50 "$WORK/logs/producer.out"; exit 1; }
    grep '^sent ' "$WORK/logs/producer.out" | tail -n 1 >"$WORK/sent"
    echo "producer: $(cat "$WORK/sent")"
    sleep 8 # level-2 delayed messages are due after 5 s; the schedule service then re-puts them
    kill -TERM $BROKER_PID
    wait $BROKER_PID || true
    kill -TERM $NS_PID
    wait $NS_PID || true
    trap - EXIT
    echo "broker and name server stopped"
    exit 0
fi

# ---------------------------------------------------------------- outside
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
START=$SECONDS
log() { printf '[store-interop %3ds] %s\n' "$((SECONDS - START))" "$*"; }

if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
    echo "store interop needs Linux 'unshare' and 'ip' (the Java servers bind all interfaces," \
        "so they run in a private network namespace)" >&2
    exit 2
fi
UNSHARE=(unshare -n)
[[ $(id -u) -eq 0 ]] || UNSHARE=(unshare -r -n)

log "building rmq-inspect"
(cd "$ROOT" && cargo build -q -p rmq-inspect)
INSPECT="$TARGET_DIR/debug/rmq-inspect"

if [[ ! -f "$HERE/target/lib/rocketmq-broker-4.8.0.jar" ]]; then
    log "downloading RocketMQ 4.8.0 jars (Maven)"
    (cd "$HERE" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$HERE/target/lib")
fi
mkdir -p "$HERE/target/classes"
if [[ ! -f "$HERE/target/classes/StoreProducer.class" || "$HERE/src/StoreProducer.java" -nt "$HERE/target/classes/StoreProducer.class" ]]; then
    log "compiling StoreProducer"
    javac -nowarn -encoding UTF-8 -cp "$HERE/target/lib/*" -d "$HERE/target/classes" "$HERE/src/StoreProducer.java"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rmq-store-interop.XXXXXX")"
cleanup() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        for f in "$WORK"/logs/*.out "$WORK"/logs/*.log; do
            [[ -f "$f" ]] || continue
            echo "===== $(basename "$f") (last 40 lines) ====="
            tail -n 40 "$f"
        done
    fi
    if [[ "${STORE_INTEROP_KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT

log "running the Java 4.8.0 name server, broker and producer in a private network namespace"
"${UNSHARE[@]}" bash "$HERE/run.sh" __inside "$WORK" | sed 's/^/    /'
STORE="$WORK/store"
FAILED=0
if [[ -e "$STORE/abort" ]]; then
    log "FAIL: abort file left behind: the broker did not shut down cleanly"
    FAILED=1
fi
log "rmq-inspect store (first lines)"
"$INSPECT" store "$STORE" --limit 3 --key "StoreInteropTopic#order-1" >"$WORK/logs/inspect-store.txt" 2>&1 || FAILED=1
sed -n '1,12p' "$WORK/logs/inspect-store.txt" | sed 's/^/    /'
log "rmq-inspect verify"
if "$INSPECT" verify "$STORE" >"$WORK/logs/verify.txt" 2>&1; then :; else FAILED=1; fi
sed 's/^/    /' "$WORK/logs/verify.txt" | head -n 60
SENT=$(awk '{print $2}' "$WORK/sent")
MESSAGES=$(sed -n 's/^verified: \([0-9]*\) messages.*/\1/p' "$WORK/logs/verify.txt")
if [[ -z "$MESSAGES" || "$MESSAGES" -lt "$SENT" ]]; then
    log "FAIL: the store holds ${MESSAGES:-?} records but the producer sent $SENT messages"
    FAILED=1
fi
if [[ $FAILED -ne 0 ]]; then
    log "FAIL"
    exit 1
fi
log "PASS: a store written by RocketMQ 4.8.0 verifies ($SENT messages sent)"
