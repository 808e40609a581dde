#!/usr/bin/env bash
# The local cluster launcher behind `make run`, `make stop`, `make status`, `make kill|pause|resume NODE=...`.
# It plays the part docker-compose played in the original setup: one process per node, configured from
# conf/<node>/, with logs and stores under $RUN_DIR/<node>/ (never inside the source tree).
# The layout (which nodes, which config, which profile) is conf/cluster.layout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN_DIR=${RUN_DIR:-$ROOT/run}
BIN=${BIN_DIR:-$ROOT/target/release}
LAYOUT=$ROOT/conf/cluster.layout
NAMESRV_ADDR="127.0.0.1:9876;127.0.0.1:9877"

nodes() { # profile -> "name kind conf" lines
  awk -v p="$1" '!/^#/ && NF >= 4 { for (i = 4; i <= NF; i++) if ($i == p || p == "all") { print $1, $2, $3; break } }' "$LAYOUT"
}
pid_of() { cat "$RUN_DIR/$1/pid" 2>/dev/null || true; }
alive() { local p; p=$(pid_of "$1"); [[ -n $p ]] && kill -0 "$p" 2>/dev/null; }
conf_value() { sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" | tail -n1 | tr -d '[:space:]'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ready() { # name port
  local name=$1 port=$2
  for _ in $(seq 1 100); do
    port_open "$port" && return 0
    alive "$name" || { echo "!! $name exited during start; last log lines:"; tail -n 20 "$RUN_DIR/$name/$name.log"; return 1; }
    sleep 0.1
  done
  echo "!! $name did not open port $port within 10 s; see $RUN_DIR/$name/$name.log"; return 1
}

# With ACL=1 (make run ACL=1): each broker gets its own copy of conf/acl/plain_acl.yml (kept
# across restarts, so changes made with mqadmin stay), signs its calls to other brokers with the
# admin account, and mqadmin finds that account in $RUN_DIR/conf/tools.yml (ROCKETMQ_HOME=$RUN_DIR).
acl_lines() { # dir -> broker.conf lines
  [[ ${ACL:-0} == 1 ]] || return 0
  [[ -f $1/plain_acl.yml ]] || cp "$ROOT/conf/acl/plain_acl.yml" "$1/plain_acl.yml"
  mkdir -p "$RUN_DIR/conf"
  printf 'accessKey: rocketmq2\nsecretKey: 12345678\n' >"$RUN_DIR/conf/tools.yml"
  printf 'aclEnable=true\naclPlainFile=%s\naclAccessKey=rocketmq2\naclSecretKey=12345678\n' "$1/plain_acl.yml"
}

start_node() { # name kind conf
  local name=$1 kind=$2 conf=$ROOT/$3 dir=$RUN_DIR/$1
  if alive "$name"; then echo "   $name already running (pid $(pid_of "$name"))"; return 0; fi
  mkdir -p "$dir"
  case $kind in
    namesrv)
      local port eff=$dir/namesrv.conf; port=$(conf_value "$conf" listenPort)
      # Each name server keeps its own KV table under its run directory (4.8.0's default,
      # $HOME/namesrv/kvConfig.json, would be shared by both).
      { cat "$conf"; echo; echo "# added by scripts/cluster.sh"; echo "kvConfigPath=$dir/kvConfig.json"; } >"$eff"
      "$BIN/mqnamesrv" -c "$eff" >"$dir/$name.log" 2>&1 &
      echo $! >"$dir/pid"
      wait_ready "$name" "$port" && echo "   $name   pid $(pid_of "$name")  127.0.0.1:$port";;
    broker)
      local port eff=$dir/broker.conf
      port=$(conf_value "$conf" listenPort)
      { cat "$conf"; echo; echo "# added by scripts/cluster.sh"; echo "storePathRootDir=$dir/store"; acl_lines "$dir"; } >"$eff"
      "$BIN/mqbroker" -c "$eff" >"$dir/$name.log" 2>&1 &
      echo $! >"$dir/pid"
      wait_ready "$name" "$port" && echo "   $name   pid $(pid_of "$name")  127.0.0.1:$port  ($(conf_value "$conf" brokerName))";;
    console)
      local port; port=$(conf_value "$conf" listenPort)
      "$BIN/rmq-console" -n "$NAMESRV_ADDR" --listen "127.0.0.1:$port" >"$dir/$name.log" 2>&1 &
      echo $! >"$dir/pid"
      wait_ready "$name" "$port" && echo "   $name   pid $(pid_of "$name")  http://127.0.0.1:$port";;
    *) echo "unknown node kind $kind for $name"; return 1;;
  esac
}

stop_node() {
  local name=$1 p; p=$(pid_of "$name")
  [[ -n $p ]] || return 0
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    kill -CONT "$p" 2>/dev/null || true   # a paused node cannot act on SIGTERM
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && { echo "   $name did not stop in 10 s: kill -9"; kill -KILL "$p" 2>/dev/null || true; }
    echo "   stopped $name"
  fi
  rm -f "$RUN_DIR/$name/pid"
}

cmd=${1:-help}; shift || true
case $cmd in
  start)
    profile=${1:-full}
    for b in mqnamesrv mqbroker rmq-console; do [[ -x $BIN/$b ]] || { echo "missing $BIN/$b: run 'make build'"; exit 1; }; done
    echo "starting profile '$profile' (logs and stores in $RUN_DIR)"
    failed=0
    while read -r name kind conf; do start_node "$name" "$kind" "$conf" || failed=1; done < <(nodes "$profile")
    if ((failed)); then echo "some nodes failed to start; 'make stop' cleans up"; exit 1; fi
    echo "cluster up. Name servers: $NAMESRV_ADDR   try: make status (DLedger groups elect their leaders within a few seconds)"
    if [[ ${ACL:-0} == 1 ]]; then echo "ACL on: brokers check run/<broker>/plain_acl.yml; for mqadmin: export ROCKETMQ_HOME=$RUN_DIR (admin keys in $RUN_DIR/conf/tools.yml)"; fi;;
  stop)
    while read -r name _ _; do stop_node "$name"; done < <(nodes all)
    echo "all nodes stopped";;
  status)
    while read -r name kind conf; do
      if alive "$name"; then s="up (pid $(pid_of "$name"))"; else s="down"; fi
      printf '   %-14s %-8s %s\n' "$name" "$kind" "$s"
    done < <(nodes all)
    if [[ -x $BIN/mqadmin ]] && port_open 9876; then "$BIN/mqadmin" clusterList -n "$NAMESRV_ADDR"; fi;;
  kill|pause|resume)
    name=${1:?usage: $0 $cmd NODE}
    alive "$name" || { echo "$name is not running"; exit 1; }
    sig=KILL; [[ $cmd == pause ]] && sig=STOP; [[ $cmd == resume ]] && sig=CONT
    kill -"$sig" "$(pid_of "$name")"; echo "sent SIG$sig to $name"
    [[ $cmd == kill ]] && rm -f "$RUN_DIR/$name/pid"; true;;
  *) echo "usage: $0 start [full|single] | stop | status | kill NODE | pause NODE | resume NODE"; exit 2;;
esac
