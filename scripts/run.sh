#!/usr/bin/env bash
# Runs Web4 Platform: installs the build tools if missing, builds the portal (wasm + CSS, with
# hashed file names and brotli and gzip copies for browsers that accept them) and the server in
# release mode, and serves on http://127.0.0.1:3000 with an embedded SQLite database in ./data.
# Extra arguments go to `server serve` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
scripts/build-release.sh
export LEPTOS_SITE_ROOT=target/site
# Upstreams you try out first usually run on this machine: loopback is allowed here explicitly
# (the server's default refuses it; metadata and link-local addresses are refused always).
export WEB4_EGRESS_ALLOW=${WEB4_EGRESS_ALLOW:-127.0.0.0/8}
echo "[run] upstreams may be on: public addresses and $WEB4_EGRESS_ALLOW (change with --egress-allow)"
exec "${CARGO_TARGET_DIR:-target}/release/server" serve "$@"
