#!/usr/bin/env bash
# DLedger store before/after bench: sends/s of a one-member DLedger group and the start-up time
# of a broker whose DLedger log holds a few GB, for two builds of mqbroker side by side.
#
# Why: 4.8.0's DLedgerCommitLog keeps the messages in the DLedger data files and points the
# consume queues there, so a put writes once and a start replays nothing. A broker that keeps a
# second, derived commit log writes every message twice and rebuilds the copy at every start, so
# its start-up time grows with the log. This script measures both effects on this machine.
#
#   experiments/dledger-store-bench.sh BEFORE_BIN_DIR AFTER_BIN_DIR [GB]
#
# Each BIN_DIR holds an mqbroker; mqnamesrv, mqadmin and mqbench come from AFTER_BIN_DIR.
#   1. sends/s: for each build, a fresh one-member DLedger group (enableDLegerCommitLog,
#      1 GiB data files, ASYNC_FLUSH) takes `mqbench producer -s 1024 -w 8` for SEND_S seconds
#      (default 20; a topic of 8 queues).
#   2. start-up: the AFTER build fills a store until its DLedger data files hold GB GiB
#      (default 2; allocated blocks, the files are sparse; 1 KiB bodies in batches of 32) and
#      stops with SIGTERM. Each build then starts
#      on its own copy of that store; we time "boot success" in its log and the moment the name
#      server's route serves every message (the sum of the topic's max offsets, from
#      `mqadmin topicStatus`, reaches the count written).
# Output: a JSON object on stdout (numbers, machine, load average); progress on stderr.
# Everything binds 127.0.0.1 with free ports; the temp dir goes at the end (BENCH_KEEP=1 keeps
# it). Needs about 3 x GB GiB of free disk. Book: Part IV "Cluster modes and DLedger".
set -euo pipefail

BEFORE=$(cd "$1" && pwd)
AFTER=$(cd "$2" && pwd)
GB=${3:-2}
SEND_S=${SEND_S:-20}
TOPIC=DLedgerBench
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rmq-dledger-bench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
START=$SECONDS
log() { printf '[dledger-bench %4ds] %s\n' "$((SECONDS - START))" "$*" >&2; }

# A free port p on 127.0.0.1 with p-2 (the VIP channel) free too.
free_port() {
    python3 - <<'PY'
import random, socket
while True:
    p = random.randint(20000, 40000)
    ok = True
    for q in (p, p - 2):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        print(p)
        break
PY
}
now_ms() { date +%s%3N; }

NS_PORT=$(free_port)
NS=127.0.0.1:$NS_PORT
mkdir -p "$WORK/ns"
printf 'kvConfigPath=%s\n' "$WORK/ns/kv.json" >"$WORK/ns.conf"
"$AFTER/mqnamesrv" -c "$WORK/ns.conf" -p "$NS_PORT" >"$WORK/ns.log" 2>&1 &
PIDS+=($!)

# start_broker BIN_DIR ROOT LOG: writes ROOT/broker.conf (once) and starts mqbroker; sets BPID.
start_broker() {
    local bin=$1 root=$2 out=$3
    if [[ ! -f "$root/broker.conf" ]]; then
        mkdir -p "$root"
        cat >"$root/broker.conf" <<CONF
brokerClusterName=BenchCluster
brokerName=RaftBench
listenPort=$(free_port)
namesrvAddr=$NS
brokerIP1=127.0.0.1
storePathRootDir=$root/store
storePathCommitLog=$root/store/commitlog
enableDLegerCommitLog=true
dLegerGroup=RaftBench
dLegerPeers=n0-127.0.0.1:$(free_port)
dLegerSelfId=n0
autoCreateTopicEnable=true
flushDiskType=ASYNC_FLUSH
CONF
    fi
    NO_COLOR=1 RUST_LOG=info "$bin/mqbroker" -c "$root/broker.conf" >"$out" 2>&1 &
    BPID=$!
    PIDS+=("$BPID")
}
stop_broker() {
    kill -TERM "$BPID" 2>/dev/null || true
    wait "$BPID" 2>/dev/null || true
}
wait_line() { # file regex seconds
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -q -E "$2" "$1" 2>/dev/null && return 0
        kill -0 "$BPID" 2>/dev/null || { tail -n 20 "$1" >&2; return 1; }
        sleep 0.05
    done
    echo "no /$2/ in $1 within $3 s" >&2
    return 1
}
# Sum of the max offsets of TOPIC's queues as the name server's route serves them (-1: none).
served() {
    "$AFTER/mqadmin" topicStatus -n "$NS" -t "$TOPIC" 2>/dev/null |
        awk '$2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ { s += $4; n++ } END { print (n ? s : -1) }'
}
wait_served() { # count seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [[ "$(served)" -ge "$1" ]] && return 0
        sleep 0.1
    done
    echo "the route never served $1 messages within $2 s" >&2
    return 1
}
create_topic() {
    local i
    for ((i = 0; i < 100; i++)); do
        "$AFTER/mqadmin" updateTopic -n "$NS" -c BenchCluster -t "$TOPIC" -r 8 -w 8 >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "updateTopic failed" >&2
    return 1
}
data_bytes() { du -s --block-size=1 "$1/store/dledger-n0/data" | cut -f1; }

# 1. sends/s
declare -A SENDS
for v in before after; do
    bin=$BEFORE
    [[ $v == after ]] && bin=$AFTER
    root="$WORK/send-$v"
    start_broker "$bin" "$root" "$root.log"
    wait_line "$root.log" 'boot success' 60
    create_topic
    "$AFTER/mqbench" producer -n "$NS" -t "$TOPIC" -s 1024 -w 8 --duration "$SEND_S" \
        --json "$root.json" >"$root.bench.txt" 2>&1
    # the summary without its per-second rows
    SENDS[$v]=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("per_second", None); print(json.dumps(d))' "$root.json")
    log "$v: $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.0f sends/s, %d failures, latency %s" % (d["tps_avg"], d["failures"], d["latency_us"]))' "${SENDS[$v]}")"
    stop_broker
    rm -rf "$root/store"
done

# 2. start-up on a store of GB GiB
FILL="$WORK/fill"
start_broker "$AFTER" "$FILL" "$FILL.log"
wait_line "$FILL.log" 'boot success' 60
create_topic
want=$((GB * 1024 * 1024 * 1024))
"$AFTER/mqbench" producer -n "$NS" -t "$TOPIC" -s 1024 -w 8 --batch 32 >"$FILL.bench.txt" 2>&1 &
FILLER=$!
PIDS+=("$FILLER")
fill_start=$SECONDS
while [[ "$(data_bytes "$FILL")" -lt "$want" ]]; do
    kill -0 "$FILLER" 2>/dev/null || { tail -n 20 "$FILL.bench.txt" >&2; exit 1; }
    sleep 2
done
kill -TERM "$FILLER" 2>/dev/null || true
wait "$FILLER" 2>/dev/null || true
sleep 1
COUNT=$(served)
stop_broker
DATA=$(data_bytes "$FILL")
log "filled $DATA bytes of DLedger data ($COUNT messages) in $((SECONDS - fill_start)) s"

declare -A BOOT READY
for v in after before; do
    bin=$BEFORE
    [[ $v == after ]] && bin=$AFTER
    root="$WORK/start-$v"
    mkdir -p "$root"
    cp -r "$FILL/store" "$root/store"
    sed "s#$FILL#$root#g" "$FILL/broker.conf" >"$root/broker.conf"
    sync
    # the copy just written is in the page cache for both builds alike
    t0=$(now_ms)
    start_broker "$bin" "$root" "$root.log"
    wait_line "$root.log" 'boot success' 1800
    t1=$(now_ms)
    wait_served "$COUNT" 1800
    t2=$(now_ms)
    BOOT[$v]=$((t1 - t0))
    READY[$v]=$((t2 - t0))
    log "$v: boot success after ${BOOT[$v]} ms, every message served after ${READY[$v]} ms"
    stop_broker
    rm -rf "$root/store"
done

python3 - "$GB" "$DATA" "$COUNT" "$SEND_S" "${SENDS[before]}" "${SENDS[after]}" \
    "${BOOT[before]}" "${READY[before]}" "${BOOT[after]}" "${READY[after]}" <<'PY'
import json, os, platform, sys
gb, data, count, send_s, sb, sa, bb, rb, ba, ra = sys.argv[1:]
def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
print(json.dumps({
    "machine": {"cpu_model": cpu(), "cores": os.cpu_count(), "kernel": platform.release(),
                "load_average_at_end": " ".join(f"{x:.2f}" for x in os.getloadavg())},
    "sends": {"body_bytes": 1024, "threads": 8, "duration_s": int(send_s),
              "before": json.loads(sb), "after": json.loads(sa)},
    "startup": {"dledger_data_bytes": int(data), "messages": int(count),
                "before": {"boot_success_ms": int(bb), "all_served_ms": int(rb)},
                "after": {"boot_success_ms": int(ba), "all_served_ms": int(ra)}},
}, indent=2))
PY
