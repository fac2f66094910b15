#!/usr/bin/env bash
# The release build that scripts/run.sh, scripts/test.sh and scripts/bench-bundle.sh use:
# `cargo leptos build --release --precompress --split` (server, wasm bundle with content-hashed
# names, the pages past the landing, log-in and sign-up ones split off into one chunk per section
# of the navigation, loaded on demand: `app/src/routes.rs`; and a .br and a .gz beside every file
# of target/site), then the .gz files again with
# `gzip -9`: cargo-leptos' own gzip is ~15% larger (1.13 MB against 0.97 MB for the wasm), and
# a browser that is not offered brotli (Chromium over plain http) gets the gzip copy.
# Expects the tools of scripts/setup.sh on PATH (source scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo leptos build --release --precompress --split
find target/site -type f -name '*.gz' -print0 | while IFS= read -r -d '' gz; do
  gzip -9 -n -c -- "${gz%.gz}" >"$gz.tmp"
  mv -- "$gz.tmp" "$gz"
done
