#!/usr/bin/env bash
# Runs every experiment in --quick mode (CI and `make test`); quick runs write under target/experiments/quick/,
# so the book keeps the full-mode figures.
# An experiment is a file experiments/src/bin/<name>.rs; each must run with only --quick.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
found=0
# mixed-group --quick is the check `make interop-mixed-group` runs (it needs the Java 4.8.0 brokers,
# like the rest of `make interop`), so it is not run a second time here. chaos --quick is the Try-it of
# part4/chaos.md, which `make try` (part of `make test`) runs.
SKIP=" mixed-group chaos "
for f in experiments/src/bin/*.rs; do
  b=$(basename "$f" .rs)
  found=1
  if [[ "$SKIP" == *" $b "* ]]; then echo "== experiment $b --quick: run elsewhere (see SKIP above)"; continue; fi
  echo "== experiment $b --quick"
  cargo run --release -q -p experiments --bin "$b" -- --quick
done
[ $found -eq 1 ] || echo "no experiments yet"
