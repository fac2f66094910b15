#!/usr/bin/env bash
# Measures the portal's bundle (numbers in BENCHMARKS.md, "Portal bundle"): builds the release
# as scripts/run.sh does (skip with --no-build), lists the wasm, JS and CSS in target/site/pkg
# raw, gzip and brotli (the precompressed files the server serves), then starts the release
# server on a free loopback port and adds up what a browser downloads on a first visit of `/`:
# the page and every file it names (stylesheet, module script, wasm preload, icon), fetched with
# `Accept-Encoding: br, gzip` like Chromium, and once more with no compression for comparison.
# Contacts nothing but 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
server=$target/release/server
site=target/site

say() { printf '\033[1;34m[bench-bundle]\033[0m %s\n' "$*"; }

if [[ ${1:-} != --no-build ]]; then
  scripts/setup.sh
  source scripts/env.sh
  say "scripts/build-release.sh (cargo leptos build --release --precompress --split)"
  scripts/build-release.sh
fi
[[ -x $server ]] || { echo "no server binary at $server" >&2; exit 2; }

size() { if [[ -f $1 ]]; then stat -c %s "$1"; else echo -; fi; }

say "bundle files in $site/pkg (bytes)"
printf '%-44s %10s %10s %10s\n' file raw gzip brotli
# The main bundle, the split loader and its manifest file by file; the lazily loaded chunks
# (`cargo leptos build --split`: a section's chunk, and the chunks sections share) summed.
chunks=0 chunk_raw=0 chunk_gz=0 chunk_br=0
for f in "$site"/pkg/*.wasm "$site"/pkg/*.js "$site"/pkg/*.css "$site"/pkg/*.json; do
  [[ -f $f ]] || continue
  case ${f##*/} in
    split_* | chunk_*)
      chunks=$((chunks + 1))
      chunk_raw=$((chunk_raw + $(size "$f"))) chunk_gz=$((chunk_gz + $(size "$f.gz"))) chunk_br=$((chunk_br + $(size "$f.br")))
      ;;
    *) printf '%-44s %10s %10s %10s\n' "${f#"$site"/}" "$(size "$f")" "$(size "$f.gz")" "$(size "$f.br")" ;;
  esac
done
if ((chunks > 0)); then
  printf '%-44s %10s %10s %10s\n' "$chunks lazily loaded chunks, together" "$chunk_raw" "$chunk_gz" "$chunk_br"
  for f in "$site"/pkg/split_*.wasm; do
    printf '  %-42s %10s %10s %10s\n' "${f#"$site"/}" "$(size "$f")" "$(size "$f.gz")" "$(size "$f.br")"
  done
fi

work=$(mktemp -d)
server_pid=''
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$server" serve --bind "127.0.0.1:$port" --data-dir "$work/data" --site-root "$site" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" == 200 ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done

# <Accept-Encoding or ''> <path>: prints "<bytes received>|<content-encoding>|<cache-control>".
fetch() {
  local -a enc=()
  [[ -n $1 ]] && enc=(-H "Accept-Encoding: $1")
  curl -s "${enc[@]}" -o /dev/null -D "$work/headers" -w '%{size_download}' "$base$2"
  printf '|%s|%s\n' \
    "$(grep -i '^content-encoding:' "$work/headers" | tr -d '\r' | awk '{print $2}' || true)" \
    "$(grep -i '^cache-control:' "$work/headers" | tr -d '\r' | cut -d' ' -f2- || true)"
}

html=$(curl -s "$base/")
# What the page loads: its <link>s (stylesheet, module preload, wasm preload, icon) and <script
# src>s; the inline hydration script imports the JS and fetches the wasm that the links name.
mapfile -t assets < <(grep -oE '<(link|script)[^>]*(href|src)="/[^"]+"' <<<"$html" |
  grep -oE '(href|src)="/[^"]+"' | cut -d'"' -f2 | sort -u)
for encoding in 'br, gzip' ''; do
  say "first visit of / with Accept-Encoding: ${encoding:-(none)}"
  printf '%-44s %10s %-9s %s\n' path bytes encoding cache-control
  total=0
  for path in / "${assets[@]}"; do
    IFS='|' read -r bytes enc cache <<<"$(fetch "$encoding" "$path")"
    printf '%-44s %10s %-9s %s\n' "$path" "$bytes" "${enc:--}" "${cache:--}"
    total=$((total + bytes))
  done
  printf '%-44s %10s\n' total "$total"
done

# The same visit in headless Chromium (its own Accept-Encoding), when the end-to-end suite's
# npm packages and Debian's Chromium are installed (scripts/setup.sh --browser).
if [[ -d end2end/node_modules/@playwright/test && -x /usr/bin/chromium ]]; then
  say "first visit of / in headless Chromium (empty cache)"
  (cd end2end && node first-visit.mjs "$base/")
  # A page whose code is loaded on demand (the marketplace section's chunks).
  say "first visit of /marketplace in headless Chromium (empty cache)"
  (cd end2end && node first-visit.mjs "$base/marketplace")
fi
