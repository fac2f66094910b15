#!/usr/bin/env bash
# Installs what building, running and testing Web4 Platform needs, skipping whatever is
# already there: the wasm target, wasm-bindgen-cli (the exact version in Cargo.lock),
# cargo-leptos, Debian's binaryen (wasm-opt) and, with --browser, Chromium and the
# end-to-end suite's npm packages. Only package registries are used (crates.io, Debian, npm).
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

apt_packages=()
command -v wasm-opt >/dev/null || apt_packages+=(binaryen)
$want_browser && [[ ! -x /usr/bin/chromium ]] && apt_packages+=(chromium)
if (( ${#apt_packages[@]} )); then
  say "installing Debian packages: ${apt_packages[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${apt_packages[@]}"
fi

if $want_browser; then
  stamp=end2end/node_modules/.package-lock.json
  if [[ ! -f "$stamp" || end2end/package-lock.json -nt "$stamp" ]]; then
    say "installing the end-to-end suite's npm packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
fi
say "tools ready"
