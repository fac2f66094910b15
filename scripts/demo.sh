#!/usr/bin/env bash
# Shows the whole platform working in one command: installs the build tools if missing, builds
# the portal and the server in release mode (as scripts/run.sh does), then runs `server demo`
# in a temporary data directory. Extra arguments go to `server demo` (e.g. `--keep` to stay up
# with the portal; see `server demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
scripts/build-release.sh
export LEPTOS_SITE_ROOT=target/site
exec "${CARGO_TARGET_DIR:-target}/release/server" demo "$@"
