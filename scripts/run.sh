#!/usr/bin/env bash
# Runs Web4 Platform: installs the build tools if missing, builds the portal (wasm + CSS) and
# the server in release mode, and serves on http://127.0.0.1:3000 with an embedded SQLite
# database in ./data. Extra arguments go to `server serve` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo leptos build --release
export LEPTOS_SITE_ROOT=target/site
exec "${CARGO_TARGET_DIR:-target}/release/server" serve "$@"
