#!/usr/bin/env bash
# Runs every experiment in --quick mode (CI and `make test`); each writes into book/src/figures/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."
bins=$(sed -n 's/^name = "\(.*\)"$/\1/p' experiments/Cargo.toml | grep -v '^experiments$' || true)
for b in $bins; do
  echo "== experiment $b --quick"
  cargo run --release -q -p experiments --bin "$b" -- --quick
done
[ -n "$bins" ] || echo "no experiments yet"
