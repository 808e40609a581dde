#!/usr/bin/env bash
# Grades the labs (book/src/labs.md, "How grading works").
#
#   labs/grade.sh            every lab, as CI does (`make labs`): each reference solution must pass
#                            all of its tests, and each stub must build and fail at least one test
#                            with the "lab not done yet" message. Prints one line per lab.
#   labs/grade.sh 04         one lab as a student runs it (`make labs LAB=04`): its tests against
#                            src/lab.rs, then which tests pass and which fail.
#   labs/grade.sh --check 04 the CI check for one lab only.
#
# Builds into the repository's target/ (labs/.cargo/config.toml), so the production crates the
# tests compare against are shared with the main workspace's build.
set -uo pipefail
cd "$(dirname "$0")"
CARGO=${CARGO:-cargo}
export RUST_BACKTRACE=0
# A failing test prints its own message; keep the output short and the colours off in logs.
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

all_labs() { ls -d [0-9][0-9]-*/ | tr -d /; }
package_of() { echo "lab$1"; }

resolve() { # "04", "4", "allocate" or "04-allocate" -> "04-allocate"
    local want=$1 hit
    [[ $want =~ ^[0-9]$ ]] && want="0$want"
    hit=$(all_labs | grep -E "^${want}(-|$)|^[0-9]{2}-${want}$" | head -n 1)
    if [[ -z $hit ]]; then
        echo "no lab '$1'; the labs are: $(all_labs | tr '\n' ' ')" >&2
        exit 2
    fi
    echo "$hit"
}

# Sums the "test result:" lines of a cargo test log: prints "<passed> <failed>".
count() {
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
         END { print p + 0, f + 0 }' "$1"
}

student() {
    local lab pkg log passed failed
    lab=$(resolve "$1") || return 2
    pkg=$(package_of "$lab")
    log=$(mktemp)
    echo "Grading lab $lab (your code in labs/$lab/src/lab.rs)"
    $CARGO test -p "$pkg" --no-fail-fast 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    read -r passed failed < <(count "$log")
    echo
    if grep -q '^error\(\[E[0-9]*\]\)\?:' "$log" && [[ $((passed + failed)) -eq 0 ]]; then
        echo "lab $lab: does not compile (see the errors above)"
    elif [[ $status -eq 0 ]]; then
        echo "lab $lab: all $passed tests pass. Well done."
    else
        echo "lab $lab: $passed of $((passed + failed)) tests pass. Failing:"
        grep -E '^test .* FAILED$' "$log" | sed -E 's/^test (.*) \.\.\. FAILED$/  - \1/'
        echo "Each failure above says the rule it checks and the book section that explains it."
    fi
    rm -f "$log"
    return "$status"
}

# Builds the tests of the given packages (extra cargo arguments in "$@") in one cargo run and
# prints "<package> <test executable>" per test binary (a lab has one: tests/grade.rs).
build_tests() {
    $CARGO test -q --no-run --message-format=json-render-diagnostics "$@" |
        python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        pkg = m["package_id"].split("#")[-1].split("@")[0].split("/")[-1]
        print(pkg, m["executable"])
'
    return "${PIPESTATUS[0]}"
}

run_tests() { # $1 = lab dir, $2 = test executable, $3 = log file; runs as cargo test would
    (cd "$1" && "$2") >"$3" 2>&1
}

# Every book section a lab's failure message or stub points to must exist: a renamed heading
# would otherwise leave students with a dead reference.
check_book_refs() {
    python3 - "$@" <<'PY'
import glob, re, sys

def slug(heading):
    # mdBook's heading ids: lower case, spaces to dashes, only letters, digits, _ and - kept.
    return "".join(c for c in heading.strip().lower().replace(" ", "-")
                   if c.isalnum() or c in "-_")

missing = []
for path in sorted(glob.glob("*/tests/*.rs") + glob.glob("*/src/*.rs") + glob.glob("solutions/*.rs")):
    text = open(path, encoding="utf-8").read()
    for page, anchor in set(re.findall(r"(part\d/[a-z0-9-]+\.md)(?:#([a-z0-9-]+))?", text)):
        try:
            md = open("../book/src/" + page, encoding="utf-8").read()
        except OSError:
            missing.append(f"{path}: book/src/{page} does not exist")
            continue
        ids = {slug(m) for m in re.findall(r"^#+\s+(.*)$", md, flags=re.M)}
        if anchor and anchor not in ids:
            missing.append(f"{path}: book/src/{page} has no section #{anchor}")
for m in missing:
    print(m, file=sys.stderr)
sys.exit(1 if missing else 0)
PY
}

check() {
    local labs=("$@") pkgs=() features=() failed_any=0 lab pkg start=$SECONDS
    for lab in "${labs[@]}"; do
        pkgs+=(-p "$(package_of "$lab")")
        features+=("$(package_of "$lab")/reference")
    done
    local stubs refs log
    stubs=$(mktemp) refs=$(mktemp) log=$(mktemp)
    # Two cargo runs build every test binary, stubs and reference solutions; then they only run.
    build_tests "${pkgs[@]}" -p lab-grader >"$stubs" || { echo "the stubs do not build" >&2; return 1; }
    build_tests "${pkgs[@]}" --features "$(IFS=,; echo "${features[*]}")" >"$refs" ||
        { echo "the reference solutions do not build" >&2; return 1; }
    run_tests grader "$(awk '$1 == "lab-grader" { print $2 }' "$stubs")" "$log" ||
        { cat "$log" >&2; echo "lab-grader's own tests fail" >&2; return 1; }
    check_book_refs || { echo "a lab points to a book section that does not exist" >&2; failed_any=1; }
    echo "Labs: each reference solution must pass, each stub must fail"
    for lab in "${labs[@]}"; do
        pkg=$(package_of "$lab")
        local ref stub passed failed status ok=0
        run_tests "$lab" "$(awk -v p="$pkg" '$1 == p { print $2 }' "$refs")" "$log"
        status=$?
        read -r passed failed < <(count "$log")
        if [[ $status -eq 0 && $failed -eq 0 && $passed -gt 0 ]]; then
            ref="$passed/$passed pass"
        else
            ref="FAILED ($passed pass, $failed fail)"
            ok=1
            sed 's/^/    reference: /' "$log" | tail -n 60 >&2
        fi
        run_tests "$lab" "$(awk -v p="$pkg" '$1 == p { print $2 }' "$stubs")" "$log"
        status=$?
        read -r passed failed < <(count "$log")
        if [[ $status -ne 0 && $failed -gt 0 ]] && grep -q 'lab not done yet' "$log"; then
            stub="$failed/$((passed + failed)) fail"
        else
            stub="WRONG (exit $status, $passed pass, $failed fail; must fail with \"lab not done yet\")"
            ok=1
            sed 's/^/    stub: /' "$log" | tail -n 60 >&2
        fi
        printf '  %-20s reference %-16s stub %s\n' "$lab" "$ref" "$stub"
        [[ $ok -eq 0 ]] || failed_any=1
    done
    rm -f "$stubs" "$refs" "$log"
    echo "(${#labs[@]} labs checked in $((SECONDS - start)) s)"
    return "$failed_any"
}

case "${1:-}" in
    "") labs=(); while IFS= read -r l; do labs+=("$l"); done < <(all_labs); check "${labs[@]}" ;;
    --check) one=$(resolve "${2:?usage: grade.sh --check <lab>}") && check "$one" ;;
    -h|--help) sed -n '2,12p' "$0" ;;
    *) student "$1" ;;
esac
