#!/usr/bin/env bash
# rmq-raw.sh [-x] [-b BODY] [-k SECONDS] PORT CODE [key=value ...]
#
# Sends one RocketMQ remoting request, built by hand, to 127.0.0.1:PORT and prints the reply: how long
# it took, the reply's JSON header and (if any) its body with unprintable bytes shown as '.'.
# Only bash, dd, od and awk are needed; no client library. Part of the RocketMQ Workbook: the
# "Wire protocol" appendix explains the frame, the "Try it" sections of Parts II and III use it.
#
#   key=value  becomes an extFields entry ("custom header"); values are sent as JSON strings and must
#              not contain '"' or '\'.
#   -b BODY    attaches BODY (a string, e.g. JSON) as the frame body.
#   -x         also prints the request frame as hex before sending it.
#   -k SECONDS keeps the connection open this long after the reply (a client that stays connected).
#   OPAQUE=n   (environment) sets the request id; default 1.
#
# Example: rmq-raw.sh 9876 105 topic=TBW102      # GET_ROUTEINFO_BY_TOPIC from a name server
set -euo pipefail
export LC_ALL=C  # lengths in bytes, not characters
body="" hex=0 keep=0
while getopts "xb:k:" opt; do
  case $opt in
    x) hex=1 ;;
    b) body=$OPTARG ;;
    k) keep=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if (($# < 2)); then echo "usage: $0 [-x] [-b BODY] [-k SECONDS] PORT CODE [key=value ...]" >&2; exit 2; fi
port=$1 code=$2
shift 2

ext=""
for kv in "$@"; do
  ext+="${ext:+,}\"${kv%%=*}\":\"${kv#*=}\""
done
fields=""
if [[ -n $ext ]]; then fields="\"extFields\":{$ext},"; fi
header="{\"code\":$code,$fields\"flag\":0,\"language\":\"OTHER\",\"opaque\":${OPAQUE:-1},\"version\":373}"

be32() { # a number as 4 big-endian bytes
  printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))"
  printf "\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"
}
read_u32() { # 4 bytes from fd 3 as a number (dd bs=1 never reads more than it is asked for)
  dd bs=1 count=4 <&3 2>/dev/null | od -An -tu1 | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'
}
frame() { # [length = 4 + header + body][type 0 = JSON | 24-bit header length][header][body]
  be32 $((4 + ${#header} + ${#body}))
  be32 ${#header}
  printf '%s%s' "$header" "$body"
}

if ((hex)); then echo "request frame:"; frame | od -An -tx1 -v | sed 's/^/  /'; fi
exec 3<>"/dev/tcp/127.0.0.1/$port"
frame >&3
SECONDS=0
length=$(read_u32)
if [[ -z $length ]]; then echo "no reply: the connection was closed (a malformed frame?)" >&2; exit 1; fi
word=$(read_u32)
header_len=$((word & 0xFFFFFF))
reply=$(dd bs=1 count="$header_len" <&3 2>/dev/null)
body_len=$((length - 4 - header_len))
echo "reply after ${SECONDS}s: serialize type $((word >> 24)), header $header_len bytes, body $body_len bytes"
echo "$reply"
if ((body_len > 0)); then
  dd bs=1 count="$body_len" <&3 2>/dev/null | LC_ALL=C tr -c '[:print:]\n' '.' | head -c 2000
  echo
fi
if ((keep > 0)); then echo "keeping the connection open for ${keep}s"; sleep "$keep" 3<&-; fi
exec 3<&-
