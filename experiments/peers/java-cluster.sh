#!/usr/bin/env bash
# java-cluster.sh: the real Apache RocketMQ 4.8.0 name server + one broker, from Maven Central jars.
#
#   java-cluster.sh fetch                              download the jars once (cache, below)
#   java-cluster.sh start DIR NAMESRV_PORT BROKER_PORT start both, wait for "boot success"
#   java-cluster.sh stop DIR                           SIGTERM both (SIGKILL after 20 s)
#   java-cluster.sh status DIR                         which of the two still run
#   java-cluster.sh run-namesrv DIR PORT               exec the name server alone (foreground)
#   java-cluster.sh run-broker DIR                     exec a broker from DIR/broker.conf (foreground)
#   java-cluster.sh run-class DIR CLASS [ARG...]       exec any class with the 4.8.0 jars
#
# The run-* forms replace this shell with the JVM, so the caller owns the process: it can
# kill -9 it, restart it, or wait for "boot success" on its stdout. run-broker takes whatever
# broker.conf the caller wrote (a DLedger member, for example); run-class runs the 4.8.0 tools
# (org.apache.rocketmq.tools.command.MQAdminStartup is mqadmin) or the caller's own classes
# (RMQ_JAVA_CP is put in front of the jars).
#
# Used by the vs-peers experiment (experiments/src/bin/vs-peers.rs), by the client's tests
# against a Java broker (crates/client/tests/java_broker.rs), by the DLedger store interchange
# (interop/dledger-store/run.sh), by the mixed-group experiment
# (experiments/src/bin/mixed-group.rs) and, for the client jars only, by the chaos experiment's
# Java producer (experiments/src/bin/chaos/java.rs). Book: Part V, "Side by side with Java
# RocketMQ and rocketmq-rust", and Part IV, "Replacing a Java node, live" and "Breaking it on
# purpose".
#
# The jars are copied by `mvn dependency:copy-dependencies` (pom.xml beside this script) into
# $RMQ_JAVA_CACHE (default $HOME/.cache/rmq-workbook/java-4.8.0), outside the repository.
# DIR is a run directory this script fills: namesrv.conf, broker.conf, store/, logs/, *.pid.
# 4.8.0's NamesrvStartup and BrokerStartup need ${rocketmq.home.dir}/conf/logback_*.xml; home/
# beside this script holds those files.
#
# 4.8.0 binds the wildcard address and has no setting to bind 127.0.0.1 only. The workbook never
# listens on anything but loopback, so `start` refuses to run unless the only network interface
# is `lo`, i.e. inside a private network namespace:
#   unshare -r -n sh -c 'ip link set lo up && experiments/peers/java-cluster.sh start /tmp/j 9876 10911'
# (the Rust callers do exactly that around their whole run). RMQ_JAVA_ALLOW_WILDCARD=1 skips the
# check at your own risk.
#
# Environment: RMQ_JAVA_CACHE, RMQ_JAVA_HEAP (default 1g: -Xms/-Xmx of the servers; run-class
# uses RMQ_JAVA_TOOL_HEAP, default 256m), RMQ_JAVA_FLUSH (ASYNC_FLUSH | SYNC_FLUSH, default
# ASYNC_FLUSH), RMQ_JAVA_BROKER_EXTRA (extra broker.conf lines), RMQ_JAVA_CP (run-class only).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${RMQ_JAVA_CACHE:-$HOME/.cache/rmq-workbook/java-4.8.0}"
HEAP="${RMQ_JAVA_HEAP:-1g}"

log() { printf '[java-cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

fetch() {
    if [[ -f "$CACHE/rocketmq-broker-4.8.0.jar" && -f "$CACHE/rocketmq-namesrv-4.8.0.jar" ]]; then
        return 0
    fi
    command -v mvn >/dev/null || die "mvn (Maven) is needed to download the RocketMQ 4.8.0 jars"
    log "downloading RocketMQ 4.8.0 name server and broker jars with Maven into $CACHE (first time only)"
    mkdir -p "$CACHE.tmp"
    # The pom stays in the repository; Maven's own target/ goes to a temporary directory.
    local build
    build="$(mktemp -d)"
    cp "$HERE/pom.xml" "$build/pom.xml"
    (cd "$build" && mvn -B -ntp dependency:copy-dependencies -DoutputDirectory="$CACHE.tmp" \
        | grep -E 'Downloaded from|BUILD|ERROR' >&2) || {
        rm -rf "$build"
        die "Maven could not fetch the jars (see above)"
    }
    rm -rf "$build"
    rm -rf "$CACHE"
    mv "$CACHE.tmp" "$CACHE"
    log "$(ls "$CACHE" | wc -l) jars in $CACHE"
}

# ANCHOR: java-opts
java_opts() { # $1 = run dir, $2 = heap (default $HEAP)
    local heap=${2:-$HEAP}
    JAVA_OPTS=(-server "-Xms$heap" "-Xmx$heap" -XX:+UseG1GC -XX:G1HeapRegionSize=16m
        -XX:+DisableExplicitGC
        --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
        --add-opens java.base/java.lang=ALL-UNNAMED
        # MappedFile.clean reflects into the direct buffer's cleaner at shutdown; without this
        # the shutdown hook dies and the next start runs abnormal recovery.
        --add-opens java.base/jdk.internal.ref=ALL-UNNAMED --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
        "-Duser.home=$1" "-Drocketmq.home.dir=$HERE/home" "-Drmq.log.dir=$1/logs"
        -cp "${RMQ_JAVA_CP:+$RMQ_JAVA_CP:}$CACHE/*")
}
# ANCHOR_END: java-opts

only_loopback() {
    [[ "${RMQ_JAVA_ALLOW_WILDCARD:-0}" == 1 ]] && return 0
    command -v ip >/dev/null || die "'ip' is needed to check that only loopback exists"
    local ifs
    ifs="$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -v '^lo$' || true)"
    [[ -z "$ifs" ]] || die "RocketMQ 4.8.0 binds all interfaces and this namespace has more than lo ($(echo $ifs | tr '\n' ' ')); run inside 'unshare -r -n' (see the header of $0)"
    ip link set lo up 2>/dev/null || true
}

wait_boot() { # out-file pid what
    local i
    for ((i = 0; i < 240; i++)); do
        if grep -q "boot success" "$1" 2>/dev/null; then return 0; fi
        if ! kill -0 "$2" 2>/dev/null; then
            log "$3 died during start-up; last lines of $1:"
            tail -n 30 "$1" >&2 || true
            return 1
        fi
        sleep 0.25
    done
    log "$3 did not print 'boot success' within 60 s; last lines of $1:"
    tail -n 30 "$1" >&2 || true
    return 1
}

namesrv_conf() { # dir port
    mkdir -p "$1/namesrv"
    cat >"$1/namesrv.conf" <<CONF
listenPort=$2
kvConfigPath=$1/namesrv/kvConfig.json
configStorePath=$1/namesrv/namesrv.properties
CONF
}

# ANCHOR: run-server
# The run-* forms: prepare, then replace this shell with the JVM (the caller owns the pid).
run_server() { # namesrv|broker DIR [PORT]
    local what=$1 dir=$2
    [[ -n "$dir" ]] || die "usage: $0 run-$what DIR${3+ PORT}"
    command -v java >/dev/null || die "java (17 or 8+) is needed"
    only_loopback
    fetch
    mkdir -p "$dir/logs"
    dir="$(cd "$dir" && pwd)"
    java_opts "$dir"
    if [[ $what == namesrv ]]; then
        [[ -n "${3:-}" ]] || die "usage: $0 run-namesrv DIR PORT"
        namesrv_conf "$dir" "$3"
        exec java "${JAVA_OPTS[@]}" org.apache.rocketmq.namesrv.NamesrvStartup -c "$dir/namesrv.conf" </dev/null
    fi
    [[ -f "$dir/broker.conf" ]] || die "$dir/broker.conf is missing (run-broker starts the broker the caller configured)"
    exec java "${JAVA_OPTS[@]}" org.apache.rocketmq.broker.BrokerStartup -c "$dir/broker.conf" </dev/null
}
# ANCHOR_END: run-server

run_class() { # DIR CLASS [ARG...]
    local dir=${1:-} class=${2:-}
    [[ -n "$dir" && -n "$class" ]] || die "usage: $0 run-class DIR CLASS [ARG...]"
    shift 2
    command -v java >/dev/null || die "java (17 or 8+) is needed"
    fetch
    mkdir -p "$dir/logs"
    dir="$(cd "$dir" && pwd)"
    java_opts "$dir" "${RMQ_JAVA_TOOL_HEAP:-256m}"
    exec java "${JAVA_OPTS[@]}" -Drocketmq.client.logRoot="$dir/logs" -Drocketmq.client.logLevel=WARN \
        "$class" "$@"
}

start() {
    local dir=$1 nsport=$2 bport=$3
    [[ -n "$dir" && -n "$nsport" && -n "$bport" ]] || die "usage: $0 start DIR NAMESRV_PORT BROKER_PORT"
    command -v java >/dev/null || die "java (17 or 8+) is needed"
    only_loopback
    fetch
    mkdir -p "$dir/logs" "$dir/store" "$dir/namesrv"
    dir="$(cd "$dir" && pwd)"
    java_opts "$dir"
    namesrv_conf "$dir" "$nsport"
    cat >"$dir/broker.conf" <<CONF
brokerClusterName=JavaCluster
brokerName=java-broker-a
brokerId=0
brokerRole=ASYNC_MASTER
namesrvAddr=127.0.0.1:$nsport
brokerIP1=127.0.0.1
listenPort=$bport
storePathRootDir=$dir/store
storePathCommitLog=$dir/store/commitlog
flushDiskType=${RMQ_JAVA_FLUSH:-ASYNC_FLUSH}
autoCreateTopicEnable=true
autoCreateSubscriptionGroup=true
deleteWhen=04
fileReservedTime=48
diskMaxUsedSpaceRatio=95
${RMQ_JAVA_BROKER_EXTRA:-}
CONF
    java "${JAVA_OPTS[@]}" org.apache.rocketmq.namesrv.NamesrvStartup -c "$dir/namesrv.conf" \
        >"$dir/logs/namesrv.out" 2>&1 </dev/null &
    echo $! >"$dir/namesrv.pid"
    wait_boot "$dir/logs/namesrv.out" "$(cat "$dir/namesrv.pid")" "name server" || { stop "$dir"; exit 1; }
    java "${JAVA_OPTS[@]}" org.apache.rocketmq.broker.BrokerStartup -c "$dir/broker.conf" \
        >"$dir/logs/broker.out" 2>&1 </dev/null &
    echo $! >"$dir/broker.pid"
    wait_boot "$dir/logs/broker.out" "$(cat "$dir/broker.pid")" "broker" || { stop "$dir"; exit 1; }
    log "Java 4.8.0 name server 127.0.0.1:$nsport (pid $(cat "$dir/namesrv.pid")), broker 127.0.0.1:$bport (pid $(cat "$dir/broker.pid"))"
    echo "namesrv_pid=$(cat "$dir/namesrv.pid") broker_pid=$(cat "$dir/broker.pid")"
}

stop_one() { # pid-file
    [[ -f "$1" ]] || return 0
    local pid i
    pid="$(cat "$1")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 80; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

stop() {
    local dir=${1:?usage: $0 stop DIR}
    stop_one "$dir/broker.pid"
    stop_one "$dir/namesrv.pid"
}

status() {
    local dir=${1:?usage: $0 status DIR} f
    for f in namesrv broker; do
        if [[ -f "$dir/$f.pid" ]] && kill -0 "$(cat "$dir/$f.pid")" 2>/dev/null; then
            echo "$f running (pid $(cat "$dir/$f.pid"))"
        else
            echo "$f stopped"
        fi
    done
}

case "${1:-}" in
fetch) fetch; echo "$CACHE" ;;
start) start "${2:-}" "${3:-}" "${4:-}" ;;
stop) stop "${2:-}" ;;
status) status "${2:-}" ;;
run-namesrv) run_server namesrv "${2:-}" "${3:-}" ;;
run-broker) run_server broker "${2:-}" ;;
run-class) shift; run_class "$@" ;;
*) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
