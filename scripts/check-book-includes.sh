#!/usr/bin/env bash
# Fails when a chapter's {{#include path[:anchor]}} names a missing file or an anchor that is missing or
# empty. mdbook build only warns about those, and a silently empty listing is the worst kind of drift.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r hit; do
  chapter=${hit%%:*}
  spec=$(sed -E 's/.*\{\{#(rustdoc_)?include ([^}]+)\}\}.*/\2/' <<<"${hit#*:}")
  path=${spec%%:*}
  anchor=""
  [[ "$spec" == *:* ]] && anchor=${spec#*:}
  file="$(dirname "$chapter")/$path"
  if [[ ! -f "$file" ]]; then
    echo "missing include file: $chapter -> $path"; status=1; continue
  fi
  # Only named anchors are checked; line ranges (10:20) are left to mdbook.
  if [[ -n "$anchor" && ! "$anchor" =~ ^[0-9:]*$ ]]; then
    body=$(awk -v a="$anchor" '
      $0 ~ "ANCHOR_END: *" a "([^A-Za-z0-9_-]|$)" {inside=0}
      inside {print}
      $0 ~ "ANCHOR: *" a "([^A-Za-z0-9_-]|$)" {inside=1; found=1}
      END {if (!found) exit 3}' "$file") || { echo "missing anchor '$anchor': $chapter -> $path"; status=1; continue; }
    if [[ -z "$(tr -d '[:space:]' <<<"$body")" ]]; then
      echo "empty anchor '$anchor': $chapter -> $path"; status=1
    fi
  fi
done < <(grep -rnoE '\{\{#(rustdoc_)?include [^}]+\}\}' book/src --include='*.md' | sed -E 's/^([^:]+):[0-9]+:/\1:/')

# The other direction: an anchor marker that no chapter includes is a listing nobody shows. It
# rots unseen (it can end up around code the text no longer describes), so it is an error too: include
# it or remove the marker. Included pairs are collected as "normalised/path:anchor".
included=$(grep -rhoE '\{\{#(rustdoc_)?include [^}]+\}\}' book/src --include='*.md' |
  sed -E 's/\{\{#(rustdoc_)?include ([^}]+)\}\}/\2/' | sed -E 's#^(\.\./)+##' | sort -u)
while IFS= read -r marker; do
  file=${marker%%:*}
  name=$(sed -E 's/.*ANCHOR: *([A-Za-z0-9_-]+).*/\1/' <<<"${marker#*:}")
  if ! grep -qxF "$file:$name" <<<"$included"; then
    echo "anchor '$name' in $file is included by no chapter: include it or remove the marker"; status=1
  fi
done < <(grep -rnoE --include='*.rs' --include='*.go' --include='*.java' --include='*.py' --include='*.sh' \
  --include='*.toml' --include='Makefile' 'ANCHOR: *[A-Za-z0-9_-]+' crates experiments labs interop scripts Makefile 2>/dev/null |
  sed -E 's/^([^:]+):[0-9]+:/\1:/')
[[ $status -eq 0 ]] && echo "book includes: all files and anchors present and non-empty, every anchor included"
exit $status
