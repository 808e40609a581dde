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

check_one() { # prints one summary line; returns non-zero if the lab's check fails
    local lab=$1 pkg log ok=0 ref stub passed failed
    pkg=$(package_of "$lab")
    log=$(mktemp)
    $CARGO test -q -p "$pkg" --features reference --no-fail-fast >"$log" 2>&1
    local ref_status=$?
    read -r passed failed < <(count "$log")
    if [[ $ref_status -eq 0 && $failed -eq 0 && $passed -gt 0 ]]; then
        ref="$passed/$passed pass"
    else
        ref="FAILED ($passed pass, $failed fail)"
        ok=1
        sed 's/^/    reference: /' "$log" | tail -n 60 >&2
    fi
    $CARGO test -q -p "$pkg" --no-fail-fast >"$log" 2>&1
    local stub_status=$?
    read -r passed failed < <(count "$log")
    if [[ $stub_status -ne 0 && $failed -gt 0 ]] && grep -q 'lab not done yet' "$log"; then
        stub="$failed/$((passed + failed)) fail"
    else
        stub="WRONG (exit $stub_status, $passed pass, $failed fail; must build and fail with \"lab not done yet\")"
        ok=1
        sed 's/^/    stub: /' "$log" | tail -n 60 >&2
    fi
    printf '  %-20s reference %-16s stub %s\n' "$lab" "$ref" "$stub"
    rm -f "$log"
    return $ok
}

check() {
    local labs=("$@") features=() failed=0 lab
    for lab in "${labs[@]}"; do features+=("$(package_of "$lab")/reference"); done
    local start=$SECONDS
    # Build every test binary up front, both variants, so that the runs below only run.
    $CARGO build -q --tests --workspace || return 1
    $CARGO build -q --tests --workspace --features "$(IFS=,; echo "${features[*]}")" || return 1
    $CARGO test -q -p lab-grader >/dev/null || { echo "lab-grader's own tests fail" >&2; return 1; }
    echo "Labs: each reference solution must pass, each stub must fail"
    for lab in "${labs[@]}"; do
        check_one "$lab" || failed=1
    done
    echo "(${#labs[@]} labs checked in $((SECONDS - start)) s)"
    return $failed
}

case "${1:-}" in
    "") mapfile -t labs < <(all_labs); check "${labs[@]}" ;;
    --check) one=$(resolve "${2:?usage: grade.sh --check <lab>}") && check "$one" ;;
    -h|--help) sed -n '2,12p' "$0" ;;
    *) student "$1" ;;
esac
