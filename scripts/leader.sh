#!/usr/bin/env bash
# leader.sh GROUP [FIELD]     the current DLedger leader of GROUP (`make leader GROUP=RaftNode00`)
# leader.sh --node NODE [FIELD]   the same line for one named node (`make node NODE=nameserver-01`)
#
# Prints one line, "node address run-dir", e.g.  broker-02 127.0.0.1:10921 run/broker-02
# (the run directory relative to the repository root when it lies inside it), or only FIELD:
# node | addr | port | dir. The book's Try-its use it because a DLedger group elects its leader at
# start-up and again after every failure, so no port or node name stays "the master" for long.
#
# How: the leader of a group is the member the name servers list with brokerId 0 in the group's route
# (a broker name is also a topic; the route of topic RaftNode00 is the group's). Each name server of
# conf/cluster.layout is asked on its own (one may be down or just restarted and still empty); the
# answers must agree, and the node must be running and not paused. While there is no such leader
# (an election, a broker registering) it asks again for up to LEADER_WAIT_S seconds (default 15),
# then fails with what it saw. The request is sent by book/src/appendix/rmq-raw.sh, the same bash
# script the book uses, so this needs nothing beyond bash and the running cluster.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN_DIR=${RUN_DIR:-$ROOT/run}
LAYOUT=$ROOT/conf/cluster.layout
RAW=$ROOT/book/src/appendix/rmq-raw.sh
WAIT_S=${LEADER_WAIT_S:-15}

usage() { echo "usage: make -s leader GROUP=RaftNode00 [FIELD=node|addr|port|dir]  (or $0 GROUP [FIELD])" >&2; exit 2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_of() { cat "$RUN_DIR/$1/pid" 2>/dev/null || true; }
state_of() { # up | paused | down
  local p; p=$(pid_of "$1")
  if [[ -z $p ]] || ! kill -0 "$p" 2>/dev/null; then echo down; return; fi
  case $(ps -o stat= -p "$p" 2>/dev/null) in T* | Z*) echo paused;; *) echo up;; esac
}
# "node kind listenPort brokerName" for every node of the layout, from one awk over all config files
# (a process per value would cost seconds on a busy machine, and the book calls this often).
nodes() {
  awk -v root="$ROOT" '
    FNR == 1 && FILENAME != ARGV[1] { conf = substr(FILENAME, length(root) + 2) }
    FILENAME == ARGV[1] { if (!/^#/ && NF >= 4) { order[++n] = $1; kind[$1] = $2; file[$3] = $1; ARGV[ARGC++] = root "/" $3 } next }
    { line = $0; sub(/^[ \t]+/, "", line); split(line, kv, "=")
      key = kv[1]; sub(/[ \t]+$/, "", key); value = substr(line, index(line, "=") + 1); gsub(/[ \t\r]/, "", value)
      if (key == "listenPort") port[file[conf]] = value
      if (key == "brokerName") group[file[conf]] = value }
    END { for (i = 1; i <= n; i++) { m = order[i]; print m, kind[m], port[m], (group[m] == "" ? "-" : group[m]) } }
  ' "$LAYOUT"
}
print() { # node addr
  local dir=$RUN_DIR/$1
  [[ $dir == "$ROOT"/* ]] && dir=${dir#"$ROOT"/}
  case $FIELD in
    "") echo "$1 $2 $dir";;
    node) echo "$1";;
    addr) echo "$2";;
    port) echo "${2##*:}";;
    dir) echo "$dir";;
  esac
}

[[ $# -ge 1 ]] || usage
if [[ $1 == --node ]]; then FIELD=${3:-}; else FIELD=${2:-}; fi
case $FIELD in "" | node | addr | port | dir) ;; *) echo "unknown FIELD '$FIELD' (node, addr, port or dir)" >&2; exit 2;; esac

if [[ $1 == --node ]]; then
  node=${2:-}
  [[ -n $node ]] || usage
  all=$(nodes)
  line=$(awk -v n="$node" '$1 == n' <<<"$all")
  [[ -n $line ]] || { echo "no node '$node' in conf/cluster.layout (nodes: $(awk '{printf "%s ", $1}' <<<"$all"))" >&2; exit 1; }
  read -r _ _ port _ <<<"$line"
  print "$node" "127.0.0.1:$port"
  exit 0
fi

group=$1
members=() ports=() nameservers=() groups=()
while read -r name kind port broker_name; do
  case $kind in
    namesrv) nameservers+=("$port");;
    broker)
      groups+=("$broker_name")
      if [[ $broker_name == "$group" ]]; then members+=("$name"); ports+=("$port"); fi;;
  esac
done < <(nodes)
if ((${#members[@]} == 0)); then
  echo "no broker group '$group' in conf/cluster.layout (groups: $(printf '%s\n' "${groups[@]}" | sort -u | tr '\n' ' '))" >&2
  exit 1
fi

ask() { # name-server port -> the address with brokerId 0 in the group's route, or nothing
  "$RAW" "$1" 105 "topic=$group" 2>/dev/null | sed -n 3p | grep -o '[{,]"\{0,1\}0"\{0,1\}:"[^"]*"' | head -n1 \
    | sed 's/^.*:"\(.*\)"$/\1/' || true
}

deadline=$((SECONDS + WAIT_S))
while :; do
  seen=() answer=""
  agree=1
  for ns in "${nameservers[@]}"; do
    if ! port_open "$ns"; then seen+=("name server $ns: not running"); continue; fi
    addr=$(ask "$ns")
    if [[ -z $addr ]]; then seen+=("name server $ns: no member with brokerId 0"); continue; fi
    seen+=("name server $ns: brokerId 0 = $addr")
    if [[ -z $answer ]]; then answer=$addr; elif [[ $answer != "$addr" ]]; then agree=0; fi
  done
  if [[ -n $answer ]] && ((agree)); then
    for i in "${!members[@]}"; do
      if [[ ${ports[$i]} == "${answer##*:}" ]]; then
        if [[ $(state_of "${members[$i]}") == up ]]; then print "${members[$i]}" "$answer"; exit 0; fi
        seen+=("${members[$i]} is listed as leader but is $(state_of "${members[$i]}")")
      fi
    done
  fi
  ((SECONDS < deadline)) || break
  sleep 0.3
done

{
  echo "no leader for $group after ${WAIT_S} s (RUN_DIR=$RUN_DIR)"
  printf '  %s\n' "${seen[@]}"
  for m in "${members[@]}"; do echo "  $m: $(state_of "$m")"; done
  echo "  a group of ${#members[@]} elects a leader only while a majority ($(( ${#members[@]} / 2 + 1 ))) of its members is up;"
  echo "  'make status' shows the nodes, 'make run' starts the missing ones"
} >&2
exit 1
