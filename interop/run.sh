#!/usr/bin/env bash
# Interop suite: the official RocketMQ clients against our servers.
#
# Builds mqnamesrv/mqbroker/mqadmin, starts one name server and one broker on free 127.0.0.1
# ports (store in a temp dir), then runs the Java suite (rocketmq-client + rocketmq-tools 4.8.0),
# the Go suite (rocketmq-client-go v2.0.0) and the restart suite (both clients' delayed messages
# while the broker is restarted with SIGTERM on the same store and port), RocketMQ 4.8.0's example
# programs on the Java client and the Python client (PyPI rocketmq, the C++ core). Prints PASS/FAIL per
# suite and exits non-zero on any failure; the server logs are printed when something fails.
# See interop/README.md.
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), CARGO (default cargo),
# INTEROP_SUITES (default "java go restart filter txn examples python reply trace mqadmin acl"), INTEROP_KEEP=1 keeps the temp dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CARGO="${CARGO:-cargo}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/debug"
SUITES="${INTEROP_SUITES:-java go restart filter txn examples python reply trace mqadmin acl}"
# The broker's delay levels. Levels 1-3 are 4.8.0's defaults (1 s, 5 s, 10 s): the delay checks
# measure them. Levels 4 and 5 (4.8.0: 30 s and 1 m) are shortened to 2 s and 3 s because a failed
# message is retried on level 3 + reconsumeTimes: the DLQ check (maxReconsumeTimes=2) then waits
# 10 s + 2 s instead of 10 s + 30 s. The remaining levels keep 4.8.0's values.
DELAY_LEVELS="1s 5s 10s 2s 3s 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
START=$SECONDS

log() { printf '[interop %3ds] %s\n' "$((SECONDS - START))" "$*"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rmq-interop.XXXXXX")"
NS_PID=""
BROKER_PID=""
FAILED=0

dump_logs() {
    for f in "$WORK"/namesrv.log "$WORK"/broker.log "$WORK"/broker-before-restart.log; do
        [[ -f "$f" ]] || continue
        echo "===== $(basename "$f") (last 200 lines) ====="
        tail -n 200 "$f"
    done
}

# SIGTERM to `pid`, then wait until it is gone. `wait` only works for our own children; a
# broker restarted by the restart suite's subshell is not one, and it still writes its config
# files while shutting down, so the work folder must not be removed before it has exited.
stop_pid() {
    local pid=$1 t0=$SECONDS
    kill "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]]; do
        if ((SECONDS - t0 > 30)); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
}

cleanup() {
    local rc=$?
    # Clients of the restart suite, then the broker (its pid file is newer than BROKER_PID when
    # the restart suite ran in a subshell), then the name server, so the broker can unregister.
    local pid f
    for f in "$WORK"/*.pid; do
        [[ -f "$f" ]] || continue
        stop_pid "$(cat "$f")"
    done
    for pid in $BROKER_PID $NS_PID; do
        stop_pid "$pid"
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

# Starts mqbroker with $WORK/broker.conf; returns non-zero if it dies or never boots.
start_broker() {
    NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" "$BIN/mqbroker" -c "$WORK/broker.conf" >"$WORK/broker.log" 2>&1 &
    BROKER_PID=$!
    echo "$BROKER_PID" >"$WORK/broker.pid"
    if wait_line "$WORK/broker.log" 'boot success' "$BROKER_PID" >/dev/null; then
        return 0
    fi
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
    rm -f "$WORK/broker.pid"
    return 1
}

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
messageDelayLevel=$DELAY_LEVELS
# filter suite: SQL92 subscriptions need this (4.8.0's default is false)
enablePropertyFilter=true
# txn suite: check-backs every second (4.8.0 default: 60 s)
transactionCheckInterval=1000
# trace suite: RMQ_SYS_TRACE_TOPIC exists from the start (topics are not auto-created here)
traceTopicEnable=true
CONF
    if start_broker; then
        break
    fi
    [[ $attempt -lt 3 ]] || { echo "mqbroker did not start" >&2; exit 1; }
    log "mqbroker did not start on port $PORT (attempt $attempt), retrying"
done
wait_port "$PORT"
wait_port "$((PORT - 2))"
log "mqbroker $BROKER_NAME listening on $BROKER_ADDR (VIP $((PORT - 2))), cluster $CLUSTER"
log "messageDelayLevel=$DELAY_LEVELS"

# --- suites ------------------------------------------------------------------------------------
now_ms() {
    python3 -c 'import time; print(int(time.time() * 1000))'
}

# Resolves the Maven dependencies (once per pom.xml) and compiles the Java sources.
prepare_java() {
    local dir="$HERE/java"
    [[ -f "$WORK/java.prepared" ]] && return 0
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
    touch "$WORK/java.prepared"
}

# Runs the Java class $1 with the remaining arguments, as the suite needs it.
java_main() {
    local dir="$HERE/java" main=$1
    shift
    # Java 9+ needs these for the 4.8.0-era netty/fastjson; Java 8 rejects the flag.
    local opens=()
    if ! java -version 2>&1 | grep -q 'version "1\.'; then
        opens=(--add-opens java.base/java.nio=ALL-UNNAMED
            --add-opens java.base/sun.nio.ch=ALL-UNNAMED
            --add-opens java.base/java.lang=ALL-UNNAMED)
    fi
    java ${opens[@]+"${opens[@]}"} \
        -Drocketmq.home.dir="${JAVA_ROCKETMQ_HOME:-$dir/home}" \
        -Drocketmq.client.logRoot="$WORK/java-logs" \
        -Drocketmq.client.logLevel=WARN \
        -Dinterop.schedule="$([[ "${INTEROP_SCHEDULE:-1}" == 1 ]] && echo true || echo false)" \
        -Dinterop.delayLevels="$DELAY_LEVELS" \
        -cp "$dir/target/classes:$dir/target/lib/*" \
        "$main" "$@"
}

run_java() {
    prepare_java
    log "java: running"
    java_main interop.Interop "$NAMESRV" "$CLUSTER" "$BROKER_NAME" "$BROKER_ADDR"
}

prepare_go() {
    [[ -x "$WORK/go-interop" ]] && return 0
    log "go: building (rocketmq-client-go v2.0.0)"
    (cd "$HERE/go" && go build -buildvcs=false -o "$WORK/go-interop" .)
}

# Creates a 4/4-queue topic with our mqadmin and prints its name.
create_topic() {
    local topic="$1_$RANDOM$RANDOM"
    "$BIN/mqadmin" updateTopic -n "$NAMESRV" -c "$CLUSTER" -t "$topic" -r 4 -w 4 >&2
    echo "$topic"
}

run_go() {
    prepare_go
    local topic delay=()
    log "go: creating topics with our mqadmin"
    topic="$(create_topic InteropGo)"
    if [[ "${INTEROP_SCHEDULE:-1}" == 1 ]]; then
        delay=(-delay-topic "$(create_topic InteropGoDelay)" -delay-levels "$DELAY_LEVELS")
    fi
    log "go: running"
    ROCKETMQ_GO_LOG_LEVEL="${ROCKETMQ_GO_LOG_LEVEL:-warn}" \
        "$WORK/go-interop" -namesrv "$NAMESRV" -topic "$topic" ${delay[@]+"${delay[@]}"}
}

# Waits until every file given exists, failing if a client process (pid file) has exited.
wait_files() {
    local i f missing pf
    for ((i = 0; i < 1200; i++)); do
        missing=0
        for f in "$@"; do
            [[ -f "$f" ]] || missing=1
        done
        [[ $missing -eq 0 ]] && return 0
        for pf in "$WORK"/restart-*.pid; do
            if ! kill -0 "$(cat "$pf")" 2>/dev/null; then
                echo "$(basename "$pf" .pid) exited before writing $*" >&2
                return 1
            fi
        done
        sleep 0.1
    done
    echo "timed out waiting for $*" >&2
    return 1
}

# Delayed messages of both clients while the broker restarts: the clients get ready and send
# (levels 1 and 3) when told; the broker then gets SIGTERM and is started again on the same
# store and port; the clients check that every message arrives once, not early and not late.
run_restart() {
    prepare_java
    prepare_go
    local sync="$WORK/restart-sync" go_topic down back rc=0 jpid gpid
    mkdir -p "$sync"
    go_topic="$(create_topic InteropGoRestart)"
    log "restart: starting the Java and Go clients"
    java_main interop.RestartDelay "$NAMESRV" "$CLUSTER" "$BROKER_NAME" "$BROKER_ADDR" "$sync" \
        >"$WORK/restart-java.log" 2>&1 &
    jpid=$!
    echo "$jpid" >"$WORK/restart-java.pid"
    ROCKETMQ_GO_LOG_LEVEL="${ROCKETMQ_GO_LOG_LEVEL:-warn}" \
        "$WORK/go-interop" -namesrv "$NAMESRV" -restart-topic "$go_topic" -sync-dir "$sync" \
        -delay-levels "$DELAY_LEVELS" >"$WORK/restart-go.log" 2>&1 &
    gpid=$!
    echo "$gpid" >"$WORK/restart-go.pid"
    if wait_files "$sync/java.ready" "$sync/go.ready" && { touch "$sync/send"; wait_files "$sync/java.sent" "$sync/go.sent"; }; then
        down="$(now_ms)"
        log "restart: delayed messages sent; SIGTERM to mqbroker (pid $BROKER_PID)"
        local t0=$SECONDS
        kill -TERM "$BROKER_PID"
        # Not our child here (the suite runs in a subshell): poll until it is gone or a zombie.
        while kill -0 "$BROKER_PID" 2>/dev/null && [[ "$(ps -o stat= -p "$BROKER_PID" 2>/dev/null)" != Z* ]]; do
            if ((SECONDS - t0 > 30)); then
                echo "mqbroker did not stop within 30 s of SIGTERM" >&2
                return 1
            fi
            sleep 0.05
        done
        log "restart: mqbroker stopped after $(($(now_ms) - down)) ms; delayOffset.json: $(tr -d '\n\t' <"$WORK/store/config/delayOffset.json" 2>/dev/null || echo missing)"
        mv "$WORK/broker.log" "$WORK/broker-before-restart.log"
        start_broker
        back="$(now_ms)"
        wait_port "$PORT"
        log "restart: mqbroker back on $BROKER_ADDR after $((back - down)) ms (same store)"
        echo "$down $back" >"$sync/restarted.tmp"
        mv "$sync/restarted.tmp" "$sync/restarted"
    else
        rc=1
    fi
    wait "$jpid" || rc=1
    rm -f "$WORK/restart-java.pid"
    wait "$gpid" || rc=1
    rm -f "$WORK/restart-go.pid"
    sed 's/^/  [java] /' "$WORK/restart-java.log"
    sed 's/^/  [go]   /' "$WORK/restart-go.log"
    return "$rc"
}

# --- filter suite (SQL92 / tag filter) ----------------------------------------------------------
# RocketMQ 4.8.0's example package `filter` (TagFilter, SqlFilter) on the official Java client:
# each consumer must receive exactly the messages its selector matches; a bad SQL expression
# must make consumer.start() fail with SUBSCRIPTION_PARSE_FAILED. See FilterExamples.java.
run_filter() {
    prepare_java
    log "filter: running the TagFilter/SqlFilter examples"
    java_main interop.FilterExamples "$NAMESRV" "$CLUSTER"
}
# --- end of filter suite ------------------------------------------------------------------------

# --- examples and python suites (helper "sync") ------------------------------------------------
# examples: RocketMQ 4.8.0's example programs (quickstart, ordermessage, broadcast, schedule, batch)
# on the official Java client, in one JVM, each checking what it received (filter: the suite above).
run_examples() {
    prepare_java
    local names=()
    if [[ "${INTEROP_SCHEDULE:-1}" != 1 ]]; then
        names=(quickstart ordermessage broadcast batch)
    fi
    log "examples: running (one JVM, all examples at once)"
    EXAMPLES_OFFSET_DIR="$WORK/example-offsets" \
        java_main interop.Examples "$NAMESRV" "$CLUSTER" "$BROKER_ADDR" ${names[@]+"${names[@]}"}
}

# python: the PyPI client `rocketmq` 0.4.4 (it bundles librocketmq, the official C++ core) in a venv
# this script creates and keeps in interop/python/.venv while requirements.txt is unchanged.
prepare_python() {
    local dir="$HERE/python" venv="$HERE/python/.venv" stamp
    stamp="$(cksum <"$dir/requirements.txt")"
    if [[ "$(cat "$venv/.req-stamp" 2>/dev/null)" != "$stamp" ]]; then
        log "python: creating $venv and installing $(tr '\n' ' ' <"$dir/requirements.txt")from PyPI"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$dir/requirements.txt"
        echo "$stamp" >"$venv/.req-stamp"
    fi
}

run_python() {
    prepare_python
    local plain ordered delayed
    log "python: creating topics with our mqadmin"
    plain="$(create_topic InteropPy)"
    ordered="$(create_topic InteropPyOrder)"
    delayed="$(create_topic InteropPyDelay)"
    log "python: running"
    # The C++ core logs to $HOME/logs/rocketmq-cpp: keep that in the work folder.
    mkdir -p "$WORK/python-home"
    HOME="$WORK/python-home" "$HERE/python/.venv/bin/python" "$HERE/python/interop.py" \
        "$NAMESRV" "$plain" "$ordered" "$delayed" "$([[ "${INTEROP_SCHEDULE:-1}" == 1 ]] && echo "$DELAY_LEVELS")"
}
# --- end of the examples and python suites ------------------------------------------------------

# --- reply suite: request-reply and offset reset (helper "reply") --------------------------------
# RocketMQ's rpc example on the Java 4.8.0 client, Java <-> Rust requesters and responders
# (crates/bench/src/bin/rmq-example), and the real mqadmin resetOffsetByTime / consumerStatus /
# queryMsgById -g -d against a running Java and a running Rust consumer. See ReplyInterop.java.
run_reply() {
    prepare_java
    log "reply: building rmq-example (Rust requester, responder, consumer)"
    CARGO_TARGET_DIR="$TARGET_DIR" "$CARGO" build -q -p rmq-bench --bin rmq-example
    log "reply: running"
    java_main interop.ReplyInterop "$NAMESRV" "$CLUSTER" "$BROKER_NAME" "$BROKER_ADDR" "$BIN/rmq-example"
}
# --- end of the reply suite ---------------------------------------------------------------------

# --- trace suite: message trace (helper "clientops") ------------------------------------------
# The 4.8.0 Java producer and consumer with enableMsgTrace -> our mqadmin QueryMsgTraceById; our
# rmq-example produce/consume --trace -> the real 4.8.0 mqadmin QueryMsgTraceById. See TraceInterop.java.
# Then a Java and a Rust consumer with consistent-hash allocation share one group (AllocateInterop.java).
run_trace() {
    prepare_java
    log "trace: building rmq-example"
    CARGO_TARGET_DIR="$TARGET_DIR" "$CARGO" build -q -p rmq-bench --bin rmq-example
    log "trace: running"
    java_main interop.TraceInterop "$NAMESRV" "$CLUSTER" "$BIN/mqadmin" "$BIN/rmq-example"
    log "trace: consistent-hash allocation, a Java and a Rust consumer in one group"
    java_main interop.AllocateInterop "$NAMESRV" "$CLUSTER" "$BIN/rmq-example"
}
# --- end of the trace suite ---------------------------------------------------------------------

# ===== mqadmin suite (issue 16: the whole mqadmin) ===============================================
# The real mqadmin 4.8.0 runs every operations subcommand against our servers, each checked by its
# output or its effect (interop/java/.../MqAdminAll.java); book/src/appendix/mqadmin.md lists them.
run_mqadmin() {
    prepare_java
    log "mqadmin: running every subcommand of the real 4.8.0 mqadmin"
    java_main interop.MqAdminAll "$NAMESRV" "$CLUSTER" "$BROKER_NAME" "$BROKER_ADDR"
}
# ===== end of mqadmin suite ======================================================================

# ===== txn suite (issue 11: transactional messages) ==============================================
# RocketMQ 4.8.0's "transaction" example as interop/java/.../Transaction.java: a 4.8.0
# TransactionMQProducer whose local transactions commit, roll back or answer UNKNOW (resolved or
# not by the broker's check-back), and a push consumer that must receive exactly the committed
# messages once each. The broker checks every second (transactionCheckInterval=1000 above);
# transactionTimeOut keeps 4.8.0's 6 s, so UNKNOW messages arrive 6-8 s after they were sent.
run_txn() {
    prepare_java
    local topic
    topic="$(create_topic InteropTx)"
    log "txn: running (topic $topic)"
    java_main interop.Transaction "$NAMESRV" "$topic"
}
# ===== end of txn suite ==========================================================================

# ===== acl suite (issue 16: ACL) =================================================================
# A second broker of our own with aclEnable=true (cluster InteropAclCluster, same name server) and
# an ACL home: conf/plain_acl.yml is that broker's file, conf/tools.yml holds the admin keys the
# real 4.8.0 mqadmin signs with. interop/java/.../AclInterop.java drives it with the official
# client's AclClientRPCHook and the real mqadmin ACL commands; every refusal must carry the remark
# the real 4.8.0 PlainAccessValidator gives the same request.
run_acl() {
    prepare_java
    local home="$WORK/acl-home" port addr pid
    mkdir -p "$home/conf"
    cp "$HERE/java/home/conf/logback_tools.xml" "$home/conf/"
    cat >"$home/conf/plain_acl.yml" <<'YML'
globalWhiteRemoteAddresses:
- 10.10.103.*
accounts:
- accessKey: interopuser
  secretKey: interop-secret
  whiteRemoteAddress:
  admin: false
  defaultTopicPerm: DENY
  defaultGroupPerm: SUB
  topicPerms:
  - AclAllowed=PUB|SUB
  - AclDenied=DENY
- accessKey: interopadmin
  secretKey: interop-admin-secret
  admin: true
YML
    printf 'accessKey: interopadmin\nsecretKey: interop-admin-secret\n' >"$home/conf/tools.yml"
    port="$(free_broker_port)"
    addr="127.0.0.1:$port"
    cat >"$WORK/broker-acl.conf" <<CONF
brokerClusterName=InteropAclCluster
brokerName=interop-broker-acl
brokerId=0
listenPort=$port
namesrvAddr=$NAMESRV
brokerIP1=127.0.0.1
storePathRootDir=$WORK/store-acl
autoCreateTopicEnable=false
aclEnable=true
aclPlainFile=$home/conf/plain_acl.yml
CONF
    NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" "$BIN/mqbroker" -c "$WORK/broker-acl.conf" >"$WORK/broker-acl.log" 2>&1 &
    pid=$!
    echo "$pid" >"$WORK/broker-acl.pid"
    wait_line "$WORK/broker-acl.log" 'boot success' "$pid" >/dev/null
    log "acl: broker with aclEnable=true on $addr"
    local rc=0
    JAVA_ROCKETMQ_HOME="$home" java_main interop.AclInterop "$NAMESRV" InteropAclCluster interop-broker-acl "$addr" || rc=1
    stop_pid "$pid"
    rm -f "$WORK/broker-acl.pid"
    [[ $rc -eq 0 ]] || tail -n 60 "$WORK/broker-acl.log"
    return "$rc"
}
# ===== end of acl suite ==========================================================================

SUMMARY=""
for suite in $SUITES; do
    if [[ $suite == restart && "${INTEROP_SCHEDULE:-1}" != 1 ]]; then
        log "skipping the restart suite (INTEROP_SCHEDULE=0)"
        continue
    fi
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
