#!/usr/bin/env bash
# Refuses development history in the book's prose: the book teaches in the present tense, and the
# story of how the code came to be belongs in git log and in the figures' metadata files.
#
#   scripts/check-book-prose.sh              check every Markdown file under book/src
#   scripts/check-book-prose.sh FILE|DIR...  check only these
#
# What it refuses (case-insensitive), each reported as file:line with the words found:
#   - commit hashes: "commit abc1234", and any 7-40 digit lowercase hex word that names a commit of
#     this repository;
#   - diary phrases: "session", "first version", "earlier run(s)", "last revision", "first run",
#     "taught us", "we found", "until now", "used to be", "at the time of writing", "issue 10", ...
#     (the list is PATTERNS below, each with the reason it is there);
#   - TODO / FIXME markers.
# Only the Markdown sources are read: listings come from the crates through {{#include}}, and figure
# metadata (meta.json) is where a run's commit belongs. Run by `make book-check` (so by `make test`).
set -uo pipefail
cd "$(dirname "$0")/.."

if (($#)); then targets=("$@"); else targets=(book/src); fi
mapfile -t files < <(find "${targets[@]}" -type f -name '*.md' | sort)
if ((${#files[@]} == 0)); then
  echo "check-book-prose: no Markdown files under ${targets[*]}" >&2
  exit 1
fi

# pattern (grep -P, case-insensitive) | why it is refused
PATTERNS=(
  '(?<!login )\bsessions?\b|a "session" is a development session; say what the reader does instead ("in one shell"); a console'"'"'s "login session" is fine'
  '\bfirst versions?\b|"first version" tells the code'"'"'s history; describe what the code does now'
  '\b(our|my) (earlier|previous|older|old|last) (versions?|revisions?|drafts?)\b|\b(earlier|previous|older) (versions?|revisions?|drafts?) of (this|the|our) (book|chapter|section|page|code|workbook|broker|store|experiment|test)\b|earlier versions of the code or the book are history; describe the present'
  '\bearlier runs?\b|\b(our|my) (previous|former|earlier|last) runs?\b|"earlier runs" is a lab diary; give the machine and load of the run shown'
  '\b(last|latest|previous|this chapter.s) revision\b|revisions of the book are history'
  '\bfirst run\b|"the first run" is a lab diary; say what the run shows'
  '\btaught us\b|"what X taught us" is a diary; state the lesson as a fact'
  '\b(before|after) the ([a-z0-9]+ )?change\b|"before the change" compares with an earlier state of the code'
  '\bwe (found|discovered|noticed|learned|realised|realized)\b|"we found" tells a story; state the fact'
  '\b(we|I) (fixed|rewrote|refactored|changed|removed|added|replaced|switched)\b|past work on the code is history'
  '\b(before|after|until) (the|this|our) fix\b|fixes are history; describe the behaviour'
  '\buntil now\b|"until now" is history'
  '\bused to be\b|\b(we|it|they|this|that|which) used to\b|"used to" is history'
  '\bturned out\b|"it turned out" tells a story; state the fact'
  '\bat the time of writing\b|\bas of (today|now|this writing)\b|the time of writing is history'
  '\b(asserts|passes|works|fails) now\b|\bnow (asserts|passes|fails)\b|"now passes" compares with an earlier state'
  '\bissues? #?[0-9]+\b|\b(issue|pull request) tracker\b|the project'"'"'s issues are not part of the course'
  '\bcommits?\b[^0-9a-z]{1,3}[0-9a-f]{7,40}\b|commit hashes belong in git log and figure metadata'
)

hits=()
report() { # file:line:text  why
  hits+=("$1"$'\t'"$2")
}

for entry in "${PATTERNS[@]}"; do
  pattern=${entry%|*}
  why=${entry##*|}
  while IFS= read -r hit; do
    report "$hit" "$why"
  done < <(grep -nHiP -- "$pattern" "${files[@]}")
done

while IFS= read -r hit; do
  report "$hit" "a TODO/FIXME in the book is unfinished work; finish it or take it out"
done < <(grep -nHE -- '\b(TODO|FIXME)\b' "${files[@]}")

# Hex words that name a commit of this repository ("see 1c1263d"), whatever words surround them.
# git cat-file answers one line per word, in order: the object type, or "<word> missing".
if git rev-parse --git-dir >/dev/null 2>&1; then
  words=$(grep -ohE '\b[0-9a-f]{7,40}\b' "${files[@]}" | grep -E '[a-f]' | grep -E '[0-9]' | sort -u)
  if [ -n "$words" ]; then
    while IFS=' ' read -r word kind; do
      [ "$kind" = commit ] || continue
      while IFS= read -r hit; do
        report "$hit" "\"$word\" is a commit of this repository; history belongs in git log and figure metadata"
      done < <(grep -nHwF -- "$word" "${files[@]}")
    done < <(paste -d' ' <(echo "$words") <(echo "$words" | git cat-file --batch-check='%(objecttype)'))
  fi
fi

if ((${#hits[@]})); then
  printf '%s\n' "${hits[@]}" | sort -t: -k1,1 -k2,2n -s | uniq | while IFS=$'\t' read -r hit why; do
    printf '%s\n    refused: %s\n' "$hit" "$why"
  done
  echo
  echo "check-book-prose: the book tells development history above. Teach in the present tense;"
  echo "history goes in git log and in the figures' meta.json."
  exit 1
else
  echo "check-book-prose: ${#files[@]} files, no development history found"
fi
