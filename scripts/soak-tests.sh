#!/usr/bin/env bash
# Runs the whole-system integration suites (platform and security) N times and prints, per test, how often it failed:
# a flaky test shows up here long before it fails someone's CI run.
#
#   scripts/soak-tests.sh N [--load] [-- test-name-filter…]
#
# The suite is built once and its binaries copied aside, so edits and builds made while it
# runs do not change what is tested. --load keeps a debug build of the whole workspace running
# beside the suite (into its own target directory, cleaned before each build), as a busy
# machine would. Exits non-zero when any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:?usage: scripts/soak-tests.sh N [--load] [-- filter…]}
shift
load=false
if [[ "${1:-}" == "--load" ]]; then load=true; shift; fi
[[ "${1:-}" == "--" ]] && shift
filters=("$@")

work=$(mktemp -d)
say() { printf '\033[1;34m[soak]\033[0m %s\n' "$*"; }

say "building the integration suites"
mapfile -t binaries < <(cargo test -p web4-tests --test platform --test security --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*/deps/[^"]*"' | cut -d'"' -f4)
(( ${#binaries[@]} == 2 )) || { echo "could not find the suites' binaries" >&2; exit 1; }
# The suites start hosted nodes and crash-test servers from this binary (its path is compiled
# into them, so it is copied back to that path only if a build replaces it meanwhile).
helper="$(dirname "$(dirname "${binaries[0]}")")/web4-server-under-test"
suites=()
for b in "${binaries[@]}"; do
  name=$(basename "$b" | sed 's/-[0-9a-f]*$//')
  cp "$b" "$work/$name"
  suites+=("$name")
done
cp "$helper" "$work/helper"

load_pid=
if $load; then
  say "starting a workspace build beside the suite (target dir $work/load-target)"
  ( while true; do
      cargo clean --target-dir "$work/load-target" >/dev/null 2>&1 || true
      cargo build --workspace --exclude frontend --target-dir "$work/load-target" >/dev/null 2>&1 || true
    done ) &
  load_pid=$!
fi
cleanup() {
  [[ -n "$load_pid" ]] && { pkill -P "$load_pid" 2>/dev/null || true; kill "$load_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

declare -A failures=()
failed_runs=0
for ((i = 1; i <= runs; i++)); do
  cmp -s "$work/helper" "$helper" || cp "$work/helper" "$helper"
  started=$SECONDS
  status=0
  : >"$work/run.log"
  for suite in "${suites[@]}"; do
    "$work/$suite" "${filters[@]}" >>"$work/run.log" 2>&1 || status=$?
  done
  summary=$(grep -E '^test result:' "$work/run.log" | awk '{p+=$4; f+=$6} END {print p" passed, "f" failed"}')
  mapfile -t failed < <(grep -E '^test .* \.\.\. FAILED$' "$work/run.log" | sed -E 's/^test (.*) \.\.\. FAILED$/\1/')
  if (( status != 0 )); then
    failed_runs=$((failed_runs + 1))
    cp "$work/run.log" "target/soak-run-$i.log" 2>/dev/null || true
  fi
  for t in "${failed[@]}"; do failures[$t]=$(( ${failures[$t]:-0} + 1 )); done
  say "run $i/$runs: ${summary:-no summary (exit $status)} ($((SECONDS - started)) s)"
done

echo
if (( failed_runs == 0 )); then
  say "$runs of $runs runs passed"
  exit 0
fi
say "$((runs - failed_runs)) of $runs runs passed; failures per test (logs in target/soak-run-*.log):"
for t in "${!failures[@]}"; do printf '%4d  %s\n' "${failures[$t]}" "$t"; done | sort -rn
exit 1
