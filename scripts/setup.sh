#!/usr/bin/env bash
# Installs what building, running and testing Web4 Platform needs, skipping whatever is
# already there: the wasm target, wasm-bindgen-cli (the exact version in Cargo.lock),
# cargo-leptos, binaryen's wasm-opt (from npm, into tools/) and, with --browser, Debian's
# Chromium and the end-to-end suite's npm packages. Only package registries are used
# (crates.io, Debian, npm). Callers put tools/node_modules/.bin on PATH (scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10   # newest release that builds on rustc 1.95 with --locked
want_browser=false
[[ "${1:-}" == "--browser" ]] && want_browser=true

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    rustup component add "$component"
  fi
done

wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ]]; then
  say "installing wasm-bindgen-cli $wbg_version (about 5 minutes)"
  # Not --locked: its lock file names a webpki-roots release the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$wbg_version"
fi

if [[ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (15-20 minutes on 2 cores)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

# npm ci into $1 unless its node_modules already matches its package-lock.json.
npm_install() {
  local stamp="$1/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$1/package-lock.json" -nt "$stamp" ]]; then
    say "installing npm packages in $1/"
    (cd "$1" && npm ci --no-audit --no-fund)
  fi
}

# wasm-opt for release builds. Not Debian's binaryen: its version 108 corrupts the
# reference-types wasm that rustc 1.95 + wasm-bindgen 0.2.130 emit (hydration then fails with
# "WebAssembly.Table.set(): Argument 1 is invalid"). npm's binaryen 132 handles it.
npm_install tools

if $want_browser; then
  if [[ ! -x /usr/bin/chromium ]]; then
    say "installing Debian's chromium"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium
  fi
  npm_install end2end
fi
say "tools ready"
