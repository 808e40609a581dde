#!/usr/bin/env bash
# DLedger failover under the official clients (issue 6): kill -9 the leader of a 3-node DLedger
# group while the Java (rocketmq-client 4.8.0) and Go (rocketmq-client-go v2.0.0) producers send
# synchronously; a new brokerId 0 must appear in the name server within 5 s, both clients must
# get acknowledgements again, and every acknowledged message must be readable afterwards.
#
# Steps: build mqnamesrv/mqbroker/mqadmin (debug); start one name server and brokers n0..n2 of
# group RaftNode00 on free 127.0.0.1 ports in a temp dir; create the topic with our mqadmin;
# start both producers (each records every SEND_OK body to a file); kill -9 the brokerId 0;
# measure until the name server lists another brokerId 0; keep sending until both clients have
# been acknowledged by the new leader and at least KEEP_S seconds passed; stop the producers;
# restart the killed node; read every queue from offset 0 on the leader with the Java pull
# consumer and check that the acknowledged bodies are a subset of what is stored.
# Then (issue 11) the transaction interop program (interop/java/.../Transaction.java) prepares
# half messages, the new leader is killed too, and the next leader's check-backs must resolve them:
# each committed message delivered exactly once, the rolled-back ones never.
# Exits non-zero on any violation and prints the server logs then. See interop/dledger/README.md.
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), CARGO (default cargo),
# FAILOVER_MAX_MS (default 5000), KEEP_S (default 10), RECOVER_MAX_S (default 45),
# DLEDGER_KEEP=1 keeps the temp dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CARGO="${CARGO:-cargo}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/debug"
JAVA_LIB="$ROOT/interop/java/target/lib"
FAILOVER_MAX_MS="${FAILOVER_MAX_MS:-5000}"
KEEP_S="${KEEP_S:-10}"
RECOVER_MAX_S="${RECOVER_MAX_S:-45}"
CLUSTER=DLedgerInteropCluster
GROUP=RaftNode00
TOPIC="DLedgerFailover_$RANDOM$RANDOM"
START=$SECONDS

log() { printf '[dledger %3ds] %s\n' "$((SECONDS - START))" "$*"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rmq-dledger.XXXXXX")"
PIDS=()        # every process this script started (killed in cleanup)
BROKER_PID=()  # per member, the live mqbroker pid ("" when down)
VIOLATIONS=()

cleanup() {
    local rc=$?
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ $rc -ne 0 ]]; then
        local f
        for f in "$WORK"/*.log; do
            [[ -f "$f" ]] || continue
            echo "===== $(basename "$f") (last 60 lines) ====="
            tail -n 60 "$f"
        done
    fi
    if [[ "${DLEDGER_KEEP:-0}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Drops a reaped pid from PIDS, so cleanup never signals a pid the system may have reused.
forget_pid() {
    local keep=() pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        [[ "$pid" == "$1" ]] || keep+=("$pid")
    done
    PIDS=(${keep[@]+"${keep[@]}"})
}

now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

# Waits until `file` has a line matching `pattern` (or process `pid` dies); prints that line.
wait_line() {
    local file=$1 pattern=$2 pid=$3 i
    for ((i = 0; i < 600; i++)); do
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

# Nine distinct free 127.0.0.1 ports: per broker p (clients), p-2 (VIP) and p+1 (HA) free, and
# three DLedger peer ports that collide with none of them. Prints "b0 b1 b2 d0 d1 d2".
free_ports() {
    python3 - <<'PY'
import socket
held, used = [], set()
def grab(port=0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close(); return None
    held.append(s); return s.getsockname()[1]
brokers, peers = [], []
while len(brokers) < 3:
    p = grab()
    if p is None or p < 1100 or p + 1 > 65535 or {p - 2, p + 1} & used:
        continue
    if grab(p - 2) is None or grab(p + 1) is None:
        continue
    used |= {p - 2, p, p + 1}; brokers.append(p)
while len(peers) < 3:
    p = grab()
    if p is not None and p not in used:
        used.add(p); peers.append(p)
print(*brokers, *peers)
for s in held: s.close()
PY
}

# brokerId 0's address of the group as the name server lists it (empty if none).
leader_addr() {
    "$BIN/mqadmin" clusterList -n "$NAMESRV" 2>/dev/null |
        awk -v g="$GROUP" '$2 == g && $3 == "0" { print $4; exit }' || true
}

# How many members of the group the name server lists.
member_count() {
    "$BIN/mqadmin" clusterList -n "$NAMESRV" 2>/dev/null | awk -v g="$GROUP" '$2 == g' | wc -l | tr -d ' '
}

# Lines (acknowledgements) in an ack file whose time is >= $2 ms.
acks_since() {
    awk -v t="$2" '$1 >= t { n++ } END { print n + 0 }' "$1" 2>/dev/null || echo 0
}

# The member index (0..2) whose client address is $1 (empty if none).
member_of() {
    local i
    for i in 0 1 2; do
        [[ "$1" == "127.0.0.1:${BPORT[$i]}" ]] && echo "$i"
    done
    return 0
}

# kill -9 of member $1, reaped and forgotten.
kill_member() {
    kill -9 "${BROKER_PID[$1]}"
    wait "${BROKER_PID[$1]}" 2>/dev/null || true
    forget_pid "${BROKER_PID[$1]}"
    BROKER_PID[$1]=""
}

# Polls the name server until a brokerId 0 other than $1 appears, at most 30 s after $2 (epoch
# ms); prints it (or the last answer, possibly empty or $1 itself).
wait_new_leader() {
    local leader=""
    while true; do
        leader="$(leader_addr)"
        [[ -n "$leader" && "$leader" != "$1" ]] && break
        (($(now_ms) - $2 < 30000)) || break
        sleep 0.05
    done
    echo "$leader"
}

start_broker() {
    local i=$1
    NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" "$BIN/mqbroker" -c "$WORK/n$i/broker.conf" >>"$WORK/broker-n$i.log" 2>&1 &
    BROKER_PID[$i]=$!
    PIDS+=("$!")
    wait_line "$WORK/broker-n$i.log" 'boot success' "${BROKER_PID[$i]}" >/dev/null
}

# --- build -------------------------------------------------------------------------------------
log "building mqnamesrv, mqbroker, mqadmin (debug, target dir $TARGET_DIR)"
CARGO_TARGET_DIR="$TARGET_DIR" "$CARGO" build -q -p rmq-namesrv -p rmq-broker -p rmq-admin --bins

if ! ls "$JAVA_LIB"/rocketmq-client-4.8.0.jar >/dev/null 2>&1; then
    log "java: resolving rocketmq-client 4.8.0 with Maven into interop/java/target/lib"
    (cd "$ROOT/interop/java" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies \
        -DoutputDirectory=target/lib)
fi
log "java: compiling Failover.java, Verify.java and the transaction program"
mkdir -p "$WORK/classes"
javac -nowarn -Xlint:-deprecation -d "$WORK/classes" -cp "$JAVA_LIB/*" "$HERE"/java/*.java \
    "$ROOT"/interop/java/src/main/java/interop/{Transaction,Check}.java
log "go: building (rocketmq-client-go v2.0.0)"
(cd "$HERE/go" && go build -buildvcs=false -o "$WORK/go-failover" .)

JAVA_OPENS=()
if ! java -version 2>&1 | grep -q 'version "1\.'; then
    JAVA_OPENS=(--add-opens java.base/java.nio=ALL-UNNAMED
        --add-opens java.base/sun.nio.ch=ALL-UNNAMED
        --add-opens java.base/java.lang=ALL-UNNAMED)
fi
java_main() {
    java ${JAVA_OPENS[@]+"${JAVA_OPENS[@]}"} \
        -Drocketmq.client.logRoot="$WORK/java-client-logs" \
        -Drocketmq.client.logLevel=WARN \
        -cp "$WORK/classes:$JAVA_LIB/*" "$@"
}

# --- servers -----------------------------------------------------------------------------------
mkdir -p "$WORK/namesrv"
printf 'kvConfigPath=%s\n' "$WORK/namesrv/kvConfig.json" >"$WORK/namesrv.conf"
NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" "$BIN/mqnamesrv" -c "$WORK/namesrv.conf" -p 0 >"$WORK/namesrv.log" 2>&1 &
NS_PID=$!
PIDS+=("$NS_PID")
NS_LINE="$(wait_line "$WORK/namesrv.log" 'listen=' "$NS_PID")"
NAMESRV="${NS_LINE##*listen=}"
NAMESRV="${NAMESRV%%[[:space:]]*}"
log "mqnamesrv listening on $NAMESRV"

read -r B0 B1 B2 D0 D1 D2 <<<"$(free_ports)"
BPORT=("$B0" "$B1" "$B2")
PEERS="n0-127.0.0.1:$D0;n1-127.0.0.1:$D1;n2-127.0.0.1:$D2"
for i in 0 1 2; do
    mkdir -p "$WORK/n$i"
    cat >"$WORK/n$i/broker.conf" <<CONF
brokerClusterName=$CLUSTER
brokerName=$GROUP
listenPort=${BPORT[$i]}
namesrvAddr=$NAMESRV
brokerIP1=127.0.0.1
storePathRootDir=$WORK/n$i/store
enableDLegerCommitLog=true
dLegerGroup=$GROUP
dLegerPeers=$PEERS
dLegerSelfId=n$i
mappedFileSizeCommitLog=16777216
autoCreateTopicEnable=false
transactionCheckInterval=1000
transactionTimeOut=10000
CONF
done
for i in 0 1 2; do
    start_broker "$i"
    log "mqbroker n$i on 127.0.0.1:${BPORT[$i]} (pid ${BROKER_PID[$i]})"
done
log "dLegerPeers=$PEERS"

LEADER=""
for ((k = 0; k < 600; k++)); do
    LEADER="$(leader_addr)"
    [[ -n "$LEADER" && "$(member_count)" -ge 3 ]] && break
    sleep 0.1
done
[[ -n "$LEADER" ]] || { echo "no brokerId 0 in the name server after 60 s" >&2; exit 1; }
log "name server lists brokerId 0 = $LEADER"

# Waits until every member has the topic in its persisted topics.json: the leader writes it on
# updateTopic, followers when their SlaveSynchronize round copies the leader's table (every 10 s,
# as 4.8.0). A leader elected before its copy would answer TOPIC_NOT_EXIST to pulls of the topic.
wait_topic_everywhere() {
    local topic="$1" deadline=$((SECONDS + 30)) missing i
    while :; do
        missing=()
        for i in 0 1 2; do
            grep -q "\"$topic\"" "$WORK/n$i/store/config/topics.json" 2>/dev/null || missing+=("n$i")
        done
        ((${#missing[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            log "topic $topic: ${missing[*]} never copied it in 30 s"
            return 1
        fi
        sleep 0.5
    done
}
"$BIN/mqadmin" updateTopic -n "$NAMESRV" -c "$CLUSTER" -t "$TOPIC" -r 4 -w 4 >"$WORK/updateTopic.out"
log "topic $TOPIC created (4/4 queues); waiting until every member has copied it"
wait_topic_everywhere "$TOPIC" || VIOLATIONS+=("topic $TOPIC never reached every member")
log "topic $TOPIC is on every member"

# --- load --------------------------------------------------------------------------------------
STOP="$WORK/stop"
java_main Failover "$NAMESRV" "$TOPIC" "$WORK/acked-java.txt" "$STOP" >"$WORK/producer-java.log" 2>&1 &
JAVA_PID=$!
PIDS+=("$JAVA_PID")
ROCKETMQ_GO_LOG_LEVEL="${ROCKETMQ_GO_LOG_LEVEL:-error}" "$WORK/go-failover" -namesrv "$NAMESRV" \
    -topic "$TOPIC" -ack-file "$WORK/acked-go.txt" -stop-file "$STOP" >"$WORK/producer-go.log" 2>&1 &
GO_PID=$!
PIDS+=("$GO_PID")
log "producers started (java pid $JAVA_PID, go pid $GO_PID)"

for ((k = 0; k < 300; k++)); do
    [[ "$(acks_since "$WORK/acked-java.txt" 0)" -ge 50 && "$(acks_since "$WORK/acked-go.txt" 0)" -ge 50 ]] && break
    kill -0 "$JAVA_PID" 2>/dev/null || { echo "java producer exited early" >&2; exit 1; }
    kill -0 "$GO_PID" 2>/dev/null || { echo "go producer exited early" >&2; exit 1; }
    sleep 0.1
done
sleep 3
log "before the kill: java acked $(acks_since "$WORK/acked-java.txt" 0), go acked $(acks_since "$WORK/acked-go.txt" 0)"

# --- kill the leader ---------------------------------------------------------------------------
LEADER="$(leader_addr)"
VICTIM="$(member_of "$LEADER")"
[[ -n "$VICTIM" ]] || { echo "brokerId 0 '$LEADER' is none of our brokers" >&2; exit 1; }
KILL_MS="$(now_ms)"
kill_member "$VICTIM"
log "kill -9 leader n$VICTIM ($LEADER)"

NEW_LEADER="$(wait_new_leader "$LEADER" "$KILL_MS")"
NEW_MS="$(now_ms)"
FAILOVER_MS=$((NEW_MS - KILL_MS))
if [[ -z "$NEW_LEADER" || "$NEW_LEADER" == "$LEADER" ]]; then
    VIOLATIONS+=("no new brokerId 0 within 30 s of the kill")
    FAILOVER_MS=-1
else
    log "new brokerId 0 = $NEW_LEADER after $FAILOVER_MS ms"
    ((FAILOVER_MS <= FAILOVER_MAX_MS)) || VIOLATIONS+=("failover took $FAILOVER_MS ms > $FAILOVER_MAX_MS ms")
fi

# Keep sending: at least KEEP_S s, and until both clients have 20 acknowledgements from after the
# new leader appeared (the Go client re-reads routes only every 30 s, so that may take a while).
while true; do
    el=$(($(now_ms) - KILL_MS))
    JN="$(acks_since "$WORK/acked-java.txt" "$NEW_MS")"
    GN="$(acks_since "$WORK/acked-go.txt" "$NEW_MS")"
    ((el >= KEEP_S * 1000 && JN >= 20 && GN >= 20)) && break
    if ((el >= RECOVER_MAX_S * 1000)); then
        ((JN >= 20)) || VIOLATIONS+=("java producer: $JN acknowledgements in the $RECOVER_MAX_S s after the kill")
        ((GN >= 20)) || VIOLATIONS+=("go producer: $GN acknowledgements in the $RECOVER_MAX_S s after the kill")
        break
    fi
    kill -0 "$JAVA_PID" 2>/dev/null || { VIOLATIONS+=("java producer died"); break; }
    kill -0 "$GO_PID" 2>/dev/null || { VIOLATIONS+=("go producer died"); break; }
    sleep 0.2
done
touch "$STOP"
wait "$JAVA_PID" || VIOLATIONS+=("java producer exited with an error")
forget_pid "$JAVA_PID"
wait "$GO_PID" || VIOLATIONS+=("go producer exited with an error")
forget_pid "$GO_PID"
log "producers stopped $(($(now_ms) - KILL_MS)) ms after the kill"

# --- restart and verify ------------------------------------------------------------------------
start_broker "$VICTIM"
log "restarted n$VICTIM (pid ${BROKER_PID[$VICTIM]})"
for ((k = 0; k < 300; k++)); do
    [[ "$(member_count)" -ge 3 && -n "$(leader_addr)" ]] && break
    sleep 0.1
done
FINAL_LEADER="$(leader_addr)"
log "group back to $(member_count) members, brokerId 0 = $FINAL_LEADER; reading every queue from offset 0"
VERIFY_OK=1
java_main Verify "$NAMESRV" "$TOPIC" "$WORK/acked-java.txt" "$WORK/acked-go.txt" >"$WORK/verify.log" 2>&1 || VERIFY_OK=0
grep '^verify' "$WORK/verify.log" | sed 's/^/  /' || true
((VERIFY_OK)) || VIOLATIONS+=("acknowledged messages missing from the topic (or the reader failed)")
STORED_LINE="$(grep -m1 '^verify: read=' "$WORK/verify.log" || echo 'verify: (no summary)')"

# ===== transactions across a leader kill (issue 11) ==============================================
# The transaction program (4.8.0 TransactionMQProducer + push consumer) prepares its half messages,
# consumes the immediate commits and writes tx-sync/prepared; the leader is killed with kill -9
# before any half is old enough to be checked (transactionTimeOut=10000 above); once a new brokerId
# 0 is listed, tx-sync/killed tells the program to wait for the new leader's check-backs.
TX_TOPIC="DLedgerTx_$RANDOM$RANDOM"
TX_LINE="not run"
"$BIN/mqadmin" updateTopic -n "$NAMESRV" -c "$CLUSTER" -t "$TX_TOPIC" -r 4 -w 4 >>"$WORK/updateTopic.out"
log "transactions: topic $TX_TOPIC created; waiting until every member has copied it"
wait_topic_everywhere "$TX_TOPIC" || VIOLATIONS+=("transactions: topic $TX_TOPIC never reached every member")
TX_SYNC="$WORK/tx-sync"
mkdir -p "$TX_SYNC"
java_main interop.Transaction "$NAMESRV" "$TX_TOPIC" "$TX_SYNC" >"$WORK/transaction-java.log" 2>&1 &
TX_PID=$!
PIDS+=("$TX_PID")
for ((k = 0; k < 1200; k++)); do
    [[ -f "$TX_SYNC/prepared" ]] && break
    kill -0 "$TX_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ -f "$TX_SYNC/prepared" ]]; then
    TX_LEADER="$(leader_addr)"
    TX_VICTIM="$(member_of "$TX_LEADER")"
    if [[ -n "$TX_VICTIM" ]]; then
        TX_KILL_MS="$(now_ms)"
        kill_member "$TX_VICTIM"
        log "transactions: halves prepared; kill -9 leader n$TX_VICTIM ($TX_LEADER)"
        TX_NEW="$(wait_new_leader "$TX_LEADER" "$TX_KILL_MS")"
        log "transactions: new brokerId 0 = $TX_NEW after $(($(now_ms) - TX_KILL_MS)) ms"
        touch "$TX_SYNC/killed"
    else
        VIOLATIONS+=("transactions: brokerId 0 '$TX_LEADER' is none of our brokers")
    fi
fi
if wait "$TX_PID"; then
    TX_LINE="PASS (killed n${TX_VICTIM:-?} $TX_LEADER, new leader ${TX_NEW:-?})"
else
    TX_LINE="FAIL (see transaction-java.log)"
    VIOLATIONS+=("transactions across the leader kill failed")
fi
forget_pid "$TX_PID"
sed 's/^/  [tx] /' "$WORK/transaction-java.log" | grep -v '^  \[tx\] *$' || true
if [[ -n "${TX_VICTIM:-}" ]]; then
    start_broker "$TX_VICTIM"
    log "transactions: restarted n$TX_VICTIM"
fi
# ===== end of transactions across a leader kill ================================================

# The time (epoch ms) of the last line matching $2 in broker log $1 (its ISO-8601 UTC timestamp).
log_ms() {
    grep -E "$2" "$1" | tail -n 1 | python3 -c '
import sys, datetime
line = sys.stdin.read().split()
if line:
    t = datetime.datetime.strptime(line[0][:26].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
    print(int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))
' || true
}

# The new leader's own log: when DLedger elected it and when the broker took brokerId 0.
server_view() {
    local i f elected role
    for i in 0 1 2; do
        [[ "$NEW_LEADER" == "127.0.0.1:${BPORT[$i]}" ]] || continue
        f="$WORK/broker-n$i.log"
        elected="$(log_ms "$f" 'role changed .*role="LEADER"')"
        role="$(log_ms "$f" 'role change: brokerId [0-9]+ -> 0')"
        echo "n$i: DLedger leader +$((${elected:-KILL_MS} - KILL_MS)) ms, broker brokerId 0 +$((${role:-KILL_MS} - KILL_MS)) ms (its log)"
    done
}

# One client's view of the failover: its summary, the send errors logged after the kill (and the
# span they cover) and when it was acknowledged again after its last error, relative to the kill.
client_report() {
    local c=$1 sum errs first last resumed
    sum="$(sed -n "s/^$c summary: //p" "$WORK/producer-$c.log" | sed 's/ firstError=.*//')"
    read -r errs first last < <(awk -v t="$KILL_MS" '/send error at/ {
            ms = $5; sub(/:$/, "", ms); ms += 0
            if (ms >= t) { n++; if (!f) f = ms; l = ms } }
        END { printf "%.0f %.0f %.0f\n", n, f, l }' "$WORK/producer-$c.log")
    if ((errs == 0)); then
        resumed="no send failed"
    else
        resumed="$(awk -v t="$last" -v k="$KILL_MS" '$1 > t { print "acknowledged again +" ($1 - k) " ms after the kill"; exit }' \
            "$WORK/acked-$c.txt")"
        resumed="errors from +$((first - KILL_MS)) to +$((last - KILL_MS)) ms, ${resumed:-never acknowledged again}"
    fi
    echo "$sum; $errs send errors after the kill, $resumed"
}

echo
echo "DLedger failover interop ($((SECONDS - START)) s):"
echo "  killed leader        n$VICTIM $LEADER"
echo "  new brokerId 0       $NEW_LEADER after $FAILOVER_MS ms in clusterList (limit $FAILOVER_MAX_MS ms)"
echo "  new leader           $(server_view)"
echo "  java (4.8.0)         $(client_report java)"
echo "  go (v2.0.0)          $(client_report go)"
echo "  (failed sends were never acknowledged, so they may or may not be stored: allowed)"
echo "  stored vs acked      $STORED_LINE"
echo "  transactions         $TX_LINE"
if ((${#VIOLATIONS[@]})); then
    echo "FAIL:"
    printf '  - %s\n' "${VIOLATIONS[@]}"
    exit 1
fi
echo "PASS: new leader within $FAILOVER_MAX_MS ms, both clients acknowledged again, no acknowledged message lost"
