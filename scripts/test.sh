#!/usr/bin/env bash
# Runs every check and test of Web4 Platform, installing what they need first:
#   fmt      cargo fmt --check
#   clippy   clippy with -D warnings, for the server (ssr) build and the wasm (hydrate) build
#   test     unit tests and the whole-system integration tests (cargo test)
#   e2e      builds the platform as scripts/run.sh does (release) and runs the Playwright
#            suite against it in Debian's Chromium
#   fuzz     fuzzes the Cloud API of that release server with schemathesis against its OpenAPI
#            document (scripts/fuzz-api.sh; builds the release first only if it is missing)
# With no arguments all stages run in that order; name stages to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."

stages=("$@")
(( ${#stages[@]} )) || stages=(fmt clippy test e2e fuzz)
logs=$(mktemp -d)
say() { printf '\n\033[1;34m[test]\033[0m %s\n' "$*"; }

needs_browser=false
for s in "${stages[@]}"; do [[ $s == e2e ]] && needs_browser=true; done
if $needs_browser; then scripts/setup.sh --browser; else scripts/setup.sh; fi
source scripts/env.sh

# Sums the N of every "N <word>" that a line matching <pattern> holds, in <log> (0 if none).
count() { grep -E "$2" "$1" | grep -Eo "[0-9]+ $3" | awk '{s+=$1} END {print s+0}' || true; }

cargo_passed=0 cargo_failed=0 e2e_passed=0 e2e_failed=0 fuzz_passed=0 fuzz_failed=0
for stage in "${stages[@]}"; do
  case "$stage" in
    fmt)
      say "cargo fmt --check"
      cargo fmt --all -- --check
      ;;
    clippy)
      say "clippy: server build (ssr)"
      cargo clippy --all-targets -- -D warnings
      say "clippy: wasm build (hydrate)"
      cargo clippy -p frontend -p app --target wasm32-unknown-unknown -- -D warnings
      ;;
    test)
      say "cargo test (unit + integration)"
      set +e
      cargo test 2>&1 | tee "$logs/cargo-test.log"
      status=${PIPESTATUS[0]}
      set -e
      cargo_passed=$(count "$logs/cargo-test.log" '^test result: ' passed)
      cargo_failed=$(count "$logs/cargo-test.log" '^test result: ' failed)
      (( status == 0 )) || { echo "cargo test failed"; exit "$status"; }
      ;;
    e2e)
      # Release, like scripts/run.sh: the suite tests the wasm bundle and server people run.
      say "building the platform (scripts/build-release.sh: cargo leptos build --release --precompress --split)"
      scripts/build-release.sh
      say "Playwright end-to-end suite (Chromium)"
      set +e
      (cd end2end && npx playwright test) 2>&1 | tee "$logs/e2e.log"
      status=${PIPESTATUS[0]}
      set -e
      e2e_passed=$(count "$logs/e2e.log" '^ +[0-9]+ passed' passed)
      e2e_failed=$(count "$logs/e2e.log" '^ +[0-9]+ failed' failed)
      (( status == 0 )) || { echo "end-to-end suite failed"; exit "$status"; }
      ;;
    fuzz)
      if [[ ! -x target/release/server ]]; then
        say "building the platform (scripts/build-release.sh: cargo leptos build --release --precompress --split)"
        scripts/build-release.sh
      fi
      say "API fuzzing with schemathesis (scripts/fuzz-api.sh)"
      set +e
      scripts/fuzz-api.sh target/release/server
      status=$?
      set -e
      # Its JUnit report: a test case per API operation, and one for the stateful phase.
      junit=target/fuzz-report/junit.xml
      if [[ -f $junit ]]; then
        suite=$(grep -o '<testsuite [^>]*>' "$junit" | head -n 1)
        attr() { grep -Eo " $1=\"[0-9]+\"" <<<"$suite" | grep -Eo '[0-9]+' || echo 0; }
        fuzz_failed=$(( $(attr failures) + $(attr errors) ))
        fuzz_passed=$(( $(attr tests) - $(attr skipped) - fuzz_failed ))
      fi
      (( status == 0 )) || { echo "API fuzzing found failures"; exit "$status"; }
      ;;
    *)
      echo "unknown stage '$stage' (fmt, clippy, test, e2e, fuzz)" >&2
      exit 2
      ;;
  esac
done

say "summary"
echo "cargo: $cargo_passed passed, $cargo_failed failed"
echo "playwright: $e2e_passed passed, $e2e_failed failed"
echo "schemathesis: $fuzz_passed passed, $fuzz_failed failed"
echo "total: $((cargo_passed + e2e_passed + fuzz_passed)) passed, $((cargo_failed + e2e_failed + fuzz_failed)) failed"
