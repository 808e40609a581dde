#!/usr/bin/env bash
# DLedger store interchange: a DLedger store written by our mqbroker is served by a real Apache
# RocketMQ 4.8.0 broker, and one written by 4.8.0 is served by ours. Both directions use one
# broker.conf (a one-member DLedger group: enableDLegerCommitLog, dLegerGroup, dLegerPeers,
# dLegerSelfId, small files so that data, consume-queue and index files roll).
#
#   A. ours writes, Java reads: our mqbroker takes COUNT keyed messages from the official Java
#      producer and stops (SIGTERM); the 4.8.0 broker starts on the same store with the same
#      broker.conf; the official push consumer from the first offset must get every body, the
#      real mqadmin 4.8.0 must find a sample by key (queryMsgByKey) and by offset msgId
#      (queryMsgById, exact body).
#   B. Java writes, ours reads: the same, the other way round; our mqadmin queries the sample
#      too.
#   After each writer and each reader stops, `rmq-inspect verify` must accept the store and
#   count at least COUNT messages.
#
# Every check prints "ok" or "FAIL"; all of them run even after a failure, and the script exits
# non-zero if one failed. Everything runs inside a private network + PID namespace
# (`unshare -r -n -p -f -m --mount-proc`): 4.8.0 binds the wildcard address, and inside the
# namespace the only interface is loopback and no other process listens, so the ports are fixed
# (name server 9876, brokers 10911 / 10921, DLedger 40911 / 40921). The Java servers and tools
# are started by experiments/peers/java-cluster.sh (jars from Maven Central, cached).
#
# Needs: Linux `unshare` and `ip` (unprivileged user namespaces), Java 8+ with javac, Maven (first
# run), cargo. Environment: CARGO_TARGET_DIR, RMQ_BIN_DIR (take mqnamesrv/mqbroker/mqadmin/
# rmq-inspect from there instead of building them), DLEDGER_STORE_COUNT (default 300),
# DLEDGER_STORE_KEEP=1 keeps the temp dir. See interop/dledger-store/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
JAVA_CLUSTER="$ROOT/experiments/peers/java-cluster.sh"
COUNT="${DLEDGER_STORE_COUNT:-300}"
NS=127.0.0.1:9876

# ---------------------------------------------------------------------------------------------
# Inside the namespace: $2 = work dir, $3 = directory of our binaries, $4 = compiled Java classes.
if [[ "${1:-}" == "__inside" ]]; then
    WORK=$2 BIN=$3 CLASSES=$4
    # Every check records its own verdict, so nothing here stops at the first failure.
    set +e +o pipefail
    START=$SECONDS
    RESULTS="$WORK/results"
    : >"$RESULTS"
    log() { printf '[dledger-store %3ds] %s\n' "$((SECONDS - START))" "$*"; }
    result() { # ok|FAIL what
        printf '%-4s %s\n' "$1" "$2" >>"$RESULTS"
        log "$1 $2"
    }
    export RMQ_JAVA_HEAP=256m RMQ_JAVA_TOOL_HEAP=256m

    wait_line() { # file regex pid seconds
        local i
        for ((i = 0; i < $4 * 10; i++)); do
            grep -q -E "$2" "$1" 2>/dev/null && return 0
            kill -0 "$3" 2>/dev/null || { log "process $3 exited; last lines of $1:"; tail -n 20 "$1"; return 1; }
            sleep 0.1
        done
        log "no /$2/ in $1 within $4 s"
        tail -n 20 "$1"
        return 1
    }
    # brokerId 0 of $1 (brokerName) as the name server lists it.
    wait_leader() {
        local i
        for ((i = 0; i < 300; i++)); do
            "$BIN/mqadmin" clusterList -n "$NS" 2>/dev/null | awk -v g="$1" '$2 == g && $3 == "0" { f = 1 } END { exit !f }' && return 0
            sleep 0.2
        done
        log "no brokerId 0 for $1 in the name server within 60 s"
        return 1
    }
    stop_pid() { # pid: SIGTERM, wait (SIGKILL after 30 s)
        local i
        kill -TERM "$1" 2>/dev/null || return 0
        for ((i = 0; i < 300; i++)); do
            kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
            sleep 0.1
        done
        log "pid $1 ignored SIGTERM for 30 s: SIGKILL"
        kill -KILL "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    }

    # One broker.conf per direction, used by both brokers of that direction.
    write_conf() { # dir group listenPort dledgerPort
        mkdir -p "$1"
        cat >"$1/broker.conf" <<CONF
brokerClusterName=DLedgerStoreCluster
brokerName=$2
listenPort=$3
namesrvAddr=$NS
brokerIP1=127.0.0.1
storePathRootDir=$1/store
storePathCommitLog=$1/store/commitlog
enableDLegerCommitLog=true
dLegerGroup=$2
dLegerPeers=n0-127.0.0.1:$4
dLegerSelfId=n0
mappedFileSizeCommitLog=65536
mappedFileSizeConsumeQueue=600
maxHashSlotNum=250
maxIndexNum=1000
autoCreateTopicEnable=true
flushDiskType=ASYNC_FLUSH
CONF
    }
    start_ours() { # dir log
        NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" "$BIN/mqbroker" -c "$1/broker.conf" >"$2" 2>&1 &
        BROKER_PID=$!
        wait_line "$2" 'boot success' "$BROKER_PID" 60
    }
    start_java() { # dir log
        bash "$JAVA_CLUSTER" run-broker "$1" >"$2" 2>&1 &
        BROKER_PID=$!
        wait_line "$2" 'boot success' "$BROKER_PID" 120
    }
    java_tool() { # dir class args...
        local dir=$1
        shift
        RMQ_JAVA_CP="$CLASSES" bash "$JAVA_CLUSTER" run-class "$dir" "$@"
    }
    verify_store() { # label store
        local out="$WORK/verify-$1.txt" n
        if RUST_BACKTRACE=0 "$BIN/rmq-inspect" verify "$2" >"$out" 2>&1; then
            n=$(sed -n 's/^verified: \([0-9]*\) messages.*/\1/p' "$out")
            if [[ -n "$n" && "$n" -ge "$COUNT" ]]; then
                result ok "rmq-inspect verify ($1): $(grep '^verified:' "$out")"
                return
            fi
        fi
        result FAIL "rmq-inspect verify ($1): $(grep -v -E '^\s*$|^Caused by' "$out" | head -n 2 | tr '\n' ' ')"
        head -n 20 "$out" | sed 's/^/      /'
    }
    # Our mqadmin on a sample of the sent messages: queryMsgByKey lists the msgId, queryMsgById
    # with the offset msgId shows the key.
    our_queries() { # topic sent-file
        local i line msg off keys=0 ids=0 total=0
        for i in 0 50 $((COUNT / 2)) $((COUNT - 1)); do
            line=$(awk -v i="$i" '$1 == i' "$2")
            [[ -n "$line" ]] || continue
            read -r _ msg off _ _ <<<"$line"
            total=$((total + 1))
            if [[ "$("$BIN/mqadmin" queryMsgByKey -n "$NS" -t "$1" -k "dls-key-$i" 2>&1)" == *"$msg"* ]]; then
                keys=$((keys + 1))
            else
                log "our queryMsgByKey dls-key-$i does not list $msg"
            fi
            if [[ "$("$BIN/mqadmin" queryMsgById -n "$NS" -i "$off" 2>&1)" == *"[dls-key-$i]"* ]]; then
                ids=$((ids + 1))
            else
                log "our queryMsgById $off does not show [dls-key-$i]"
            fi
        done
        [[ $keys -eq $total ]] && result ok "our mqadmin queryMsgByKey: $keys/$total" ||
            result FAIL "our mqadmin queryMsgByKey: $keys/$total keys list their msgId"
        [[ $ids -eq $total ]] && result ok "our mqadmin queryMsgById: $ids/$total" ||
            result FAIL "our mqadmin queryMsgById: $ids/$total offset msgIds show their key"
    }
    java_check() { # label dir topic sent
        if java_tool "$2" interop.DLedgerStore check "$NS" "$3" "$4" >"$WORK/check-$1.txt" 2>&1; then :; fi
        grep -E '^  (ok|FAIL) ' "$WORK/check-$1.txt" | sed 's/^  //' | while read -r verdict what; do
            result "$verdict" "$1: $what"
        done
        grep -q -E '^  (ok|FAIL) ' "$WORK/check-$1.txt" || {
            result FAIL "$1: the Java check printed no verdict"
            tail -n 30 "$WORK/check-$1.txt"
        }
        if grep -q '^  FAIL' "$WORK/check-$1.txt"; then
            grep -v -E '^  (ok|FAIL) ' "$WORK/check-$1.txt" | head -n 30 | sed 's/^/      /'
        fi
    }
    produce() { # dir topic sent
        if java_tool "$1" interop.DLedgerStore produce "$NS" "$2" "$COUNT" "$3" >"$1/produce.txt" 2>&1; then
            result ok "$(grep -m1 '^produce: sent=' "$1/produce.txt")"
        else
            result FAIL "the Java producer failed: $(tail -n 1 "$1/produce.txt")"
            return 1
        fi
    }
    create_topic() { # topic
        "$BIN/mqadmin" updateTopic -n "$NS" -c DLedgerStoreCluster -t "$1" -r 4 -w 4 >/dev/null
    }

    ip link set lo up
    mkdir -p "$WORK/namesrv"
    printf 'kvConfigPath=%s\n' "$WORK/namesrv/kvConfig.json" >"$WORK/namesrv.conf"
    NO_COLOR=1 "$BIN/mqnamesrv" -c "$WORK/namesrv.conf" -p 9876 >"$WORK/namesrv.log" 2>&1 &
    wait_line "$WORK/namesrv.log" 'boot success|listen=' $! 30

    # ---- A: ours writes, Java reads
    A="$WORK/a"
    write_conf "$A" RaftNodeA 10911 40911
    log "A: our mqbroker (DLedger group RaftNodeA, one member) takes $COUNT messages"
    start_ours "$A" "$A/ours.log"
    wait_leader RaftNodeA
    create_topic DLedgerStoreA
    if produce "$A" DLedgerStoreA "$A/sent.txt"; then
        stop_pid "$BROKER_PID"
        log "A: our mqbroker stopped (SIGTERM)"
        verify_store "A, written by ours" "$A/store"
        log "A: the 4.8.0 broker starts on that store with the same broker.conf"
        if start_java "$A" "$A/java.out" && wait_leader RaftNodeA; then
            java_check "A, 4.8.0 reads ours" "$A" DLedgerStoreA "$A/sent.txt"
        else
            result FAIL "A: the 4.8.0 broker did not start on our store (see $A/java.out, $A/logs/broker.log)"
        fi
        stop_pid "$BROKER_PID"
        [[ -f "$A/store/abort" ]] && result FAIL "A: the 4.8.0 broker left an abort file (unclean shutdown)"
        verify_store "A, after 4.8.0 served it" "$A/store"
    else
        stop_pid "$BROKER_PID"
    fi

    # ---- B: Java writes, ours reads
    B="$WORK/b"
    write_conf "$B" RaftNodeB 10921 40921
    log "B: the 4.8.0 broker (DLedger group RaftNodeB, one member) takes $COUNT messages"
    if start_java "$B" "$B/java.out" && wait_leader RaftNodeB; then
        create_topic DLedgerStoreB
        if produce "$B" DLedgerStoreB "$B/sent.txt"; then
            stop_pid "$BROKER_PID"
            [[ -f "$B/store/abort" ]] && result FAIL "B: the 4.8.0 broker left an abort file (unclean shutdown)"
            log "B: the 4.8.0 broker stopped (SIGTERM)"
            verify_store "B, written by 4.8.0" "$B/store"
            log "B: our mqbroker starts on that store with the same broker.conf"
            if start_ours "$B" "$B/ours.log" && wait_leader RaftNodeB; then
                java_check "B, ours serves 4.8.0's" "$B" DLedgerStoreB "$B/sent.txt"
                our_queries DLedgerStoreB "$B/sent.txt"
            else
                result FAIL "B: our mqbroker did not start on the 4.8.0 store (see $B/ours.log)"
            fi
            stop_pid "$BROKER_PID"
            verify_store "B, after ours served it" "$B/store"
        else
            stop_pid "$BROKER_PID"
        fi
    else
        result FAIL "B: the 4.8.0 broker did not start (see $B/java.out)"
    fi
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Outside: build, fetch, compile, then run the above in a private namespace and judge.
START=$SECONDS
log() { printf '[dledger-store %3ds] %s\n' "$((SECONDS - START))" "$*"; }
for cmd in unshare ip java javac; do
    command -v "$cmd" >/dev/null || { echo "dledger-store interop needs '$cmd'" >&2; exit 2; }
done
if [[ -n "${RMQ_BIN_DIR:-}" ]]; then
    BIN="$(cd "$RMQ_BIN_DIR" && pwd)"
else
    TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
    log "building mqnamesrv, mqbroker, mqadmin, rmq-inspect (debug, target dir $TARGET_DIR)"
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" "${CARGO:-cargo}" build -q -p rmq-namesrv -p rmq-broker \
        -p rmq-admin -p rmq-inspect --bins)
    BIN="$TARGET_DIR/debug"
fi
CACHE="$(bash "$JAVA_CLUSTER" fetch)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rmq-dledger-store.XXXXXX")"
cleanup() {
    local rc=$?
    if [[ "${DLEDGER_STORE_KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT

log "compiling interop/java's DLedgerStore against the 4.8.0 jars"
mkdir -p "$WORK/classes"
javac -nowarn -encoding UTF-8 -d "$WORK/classes" -cp "$CACHE/*" -sourcepath "$ROOT/interop/java/src/main/java" \
    "$ROOT/interop/java/src/main/java/interop/DLedgerStore.java"

log "both directions, inside a private network + PID namespace"
unshare -r -n -p -f -m --mount-proc --kill-child bash "$HERE/run.sh" __inside "$WORK" "$BIN" "$WORK/classes" || true

echo
echo "DLedger store interchange ($((SECONDS - START)) s, $COUNT messages each way):"
sed 's/^/  /' "$WORK/results"
if [[ ! -s "$WORK/results" ]] || grep -q '^FAIL' "$WORK/results"; then
    for f in "$WORK"/a/ours.log "$WORK"/a/logs/broker.log "$WORK"/b/ours.log "$WORK"/b/logs/broker.log; do
        [[ -f "$f" ]] || continue
        echo "===== ${f#"$WORK"/} (warnings, last 25) ====="
        grep -E 'WARN|ERROR|illegal|Exception' "$f" | tail -n 25 | cut -c1-300 || true
    done
    echo "FAIL"
    exit 1
fi
echo "PASS: each broker serves every message of a DLedger store the other one wrote"
