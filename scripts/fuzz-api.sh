#!/usr/bin/env bash
# Fuzzes the Cloud API with schemathesis against its own OpenAPI document: starts the server
# (the binary named by the first argument or $SERVER, default target/release/server) on a free
# loopback port with a fresh data directory, signs up the operator, makes an API key with every
# scope and a few things for the fuzzer to find (two services, one of them http in front of a
# local upstream, an invoice for three calls to it, a join token), then runs schemathesis on
# /api/v1/openapi.json with that key and a fixed seed. It fails on any 5xx, on a status, content
# type, header or body the document does not allow, on a request the document forbids that the
# server accepts, and on a deleted resource that is still there.
# Installs a pinned schemathesis into a venv at target/fuzz-venv the first time (from PyPI;
# Debian's python3-venv if python3 cannot make a venv). Writes a JUnit report to
# target/fuzz-report/junit.xml. Contacts nothing but 127.0.0.1.
# Knobs: FUZZ_MAX_EXAMPLES (default 100 per operation), FUZZ_SEED (default 1), FUZZ_TIME_LIMIT
# (seconds schemathesis may take, default 300: a run of the 90 operations took 123 s on the 2-vCPU machine; past it the stage fails).
set -euo pipefail

server=${1:-${SERVER:-target/release/server}}
# Resolved before the cd below, so that a path relative to the caller's directory works too.
[[ $server == */* ]] && server=$(realpath -m -- "$server")
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=target/fuzz-venv
report=target/fuzz-report
max_examples=${FUZZ_MAX_EXAMPLES:-100}
seed=${FUZZ_SEED:-1}
time_limit=${FUZZ_TIME_LIMIT:-300}

say() { printf '\033[1;34m[fuzz]\033[0m %s\n' "$*"; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if [[ ! -x $server ]]; then
  echo "no server binary at $server (build it with cargo leptos build --release)" >&2
  exit 2
fi

if [[ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]]; then
  python=python3
  # Debian's python3 makes no venv without ensurepip, which comes in its python3-venv package.
  if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    python=/usr/bin/python3
    if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
      say "installing Debian's python3-venv"
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv
    fi
  fi
  if ! "$venv/bin/python" -c '' 2>/dev/null; then
    say "making a Python venv in $venv"
    "$python" -m venv --clear "$venv"
  fi
  say "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
py="$venv/bin/python"

work=$(mktemp -d)
server_pid='' upstream_pid='' fuzz_pid=''
cleanup() {
  local pid
  for pid in $fuzz_pid $server_pid $upstream_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Waits up to 60 s for <url> to answer 200 while process <pid> lives; shows <log> if not.
await_ready() {
  local _
  for _ in $(seq 1 120); do
    kill -0 "$2" 2>/dev/null || break
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" == 200 ]] && return 0
    sleep 0.5
  done
  echo "$1 did not answer 200 within 60 s; the log:" >&2
  tail -n 50 "$3" >&2
  return 1
}

port=$(free_port)
base="http://127.0.0.1:$port"
say "starting $server on $base (data in $work/data)"
args=(serve --bind "127.0.0.1:$port" --data-dir "$work/data" --egress-allow 127.0.0.0/8 --site-root target/site)
# Sign-ups are limited per client address; the fuzzer signs up from 127.0.0.1 again and again.
# (A binary older than the option gets the default budget.)
if [[ "$("$server" serve --help)" == *--sign-ups-per-hour* ]]; then args+=(--sign-ups-per-hour 1000); fi
if [[ "$("$server" serve --help)" == *--searches-per-second* ]]; then args+=(--searches-per-second 10000); fi
"$server" "${args[@]}" >"$work/server.log" 2>&1 &
server_pid=$!

# The upstream of the http service: Python's file server on an empty directory.
upstream_port=$(free_port)
mkdir "$work/upstream"
"$py" -m http.server --bind 127.0.0.1 --directory "$work/upstream" "$upstream_port" >"$work/upstream.log" 2>&1 &
upstream_pid=$!

await_ready "$base/readyz" "$server_pid" "$work/server.log"
await_ready "http://127.0.0.1:$upstream_port/" "$upstream_pid" "$work/upstream.log"

# <method> <path> <expected status> [JSON body]: prints the answer's body. Goes as the session
# (which holds every scope), with the Origin the CSRF check wants from one.
call() {
  local out status
  local -a body=()
  [[ $# -ge 4 ]] && body=(-H 'Content-Type: application/json' -d "$4")
  out=$(curl -sS -X "$1" -b "$work/cookies" -c "$work/cookies" -H "Origin: $base" "${body[@]}" \
    -w '\n%{http_code}' "$base$2")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ $status != "$3" ]]; then
    echo "$1 $2 answered $status, not $3: $out" >&2
    return 1
  fi
  printf '%s' "$out"
}
# <JSON> <Python expression over d, the parsed JSON>: prints the value, a string as it is and
# anything else as JSON. The JSON goes on stdin (printf is a builtin): the OpenAPI document is
# past the kernel's 128 KiB limit on one argument.
json() {
  printf '%s' "$1" |
    "$py" -c "import json, sys; d = json.load(sys.stdin); v = $2; print(v if isinstance(v, str) else json.dumps(v))"
}

# The first account is the operator, so the operator-only operations get fuzzed as well.
say "signing up the operator; making an API key with every scope, services, an invoice, a join token"
call POST /api/v1/auth/signup 201 '{"email":"fuzz@example.com","password":"fuzz-password-0123"}' >/dev/null
scopes=$(json "$(call GET /api/v1/openapi.json 200)" 'd["components"]["schemas"]["Scope"]["enum"]')
secret=$(json "$(call POST /api/v1/keys 201 "{\"name\":\"fuzz\",\"scopes\":$scopes}")" 'd["secret"]')
kv=$(json "$(call POST /api/v1/services 201 '{"slug":"fuzz-kv","kind":"kv"}')" 'd["id"]')
http=$(json "$(call POST /api/v1/services 201 "{\"slug\":\"fuzz-http\",\"kind\":\"http\",\"price_per_call_micros\":1000,\"http\":{\"upstream_url\":\"http://127.0.0.1:$upstream_port\"}}")" 'd["id"]')
# Three calls, with the key (a session may not call services); 503 until it is placed.
calls=0
for _ in $(seq 1 80); do
  code=$(curl -s -o "$work/invoke.out" -w '%{http_code}' -H "Authorization: Bearer $secret" "$base/api/v1/invoke/$http/")
  if [[ $code == 200 ]]; then (( ++calls == 3 )) && break; else sleep 0.25; fi
done
(( calls == 3 )) || { echo "GET /api/v1/invoke/$http/ answered $code: $(cat "$work/invoke.out")" >&2; exit 1; }
invoices='[]'
for _ in $(seq 1 40); do # the calls are metered a moment after they are answered
  invoices=$(json "$(call POST /api/v1/billing/finalize 200 '{}')" '[i["id"] for i in d]')
  [[ $invoices != '[]' ]] && break
  sleep 0.25
done
[[ $invoices != '[]' ]] || { echo "POST /api/v1/billing/finalize made no invoice of the 3 calls" >&2; exit 1; }
token=$(json "$(call POST /api/v1/join-tokens 201 '{"note":"fuzz"}')" 'd["token"]["id"]')
nodes=$(json "$(call GET /api/v1/nodes 200)" '[n["id"] for n in d]')

# Half the time an operation's path names one of those instead of a made-up id.
cat >"$work/schemathesis.toml" <<EOF
[dictionaries.services]
values = ["$kv", "$http"]
[dictionaries.invoices]
values = $invoices
[dictionaries.lines]
values = [1]
[dictionaries.nodes]
values = $nodes
[dictionaries.node_actions]
values = ["drain", "undrain", "block", "unblock"]
[dictionaries.join_tokens]
values = ["$token"]

[[operations]]
include-path-regex = '^/api/v1/services/\{id\}'
parameters = { "path.id" = { dictionary = "services", probability = 0.5 } }
[[operations]]
include-path-regex = '^/api/v1/invoices/\{id\}'
parameters = { "path.id" = { dictionary = "invoices", probability = 0.5 }, "path.position" = { dictionary = "lines", probability = 0.5 } }
[[operations]]
include-path-regex = '^/api/v1/nodes/\{id\}'
parameters = { "path.id" = { dictionary = "nodes", probability = 0.5 }, "path.action" = { dictionary = "node_actions", probability = 0.5 } }
[[operations]]
include-path-regex = '^/api/v1/join-tokens/\{id\}'
parameters = { "path.id" = { dictionary = "join_tokens", probability = 0.5 } }
EOF

rm -rf "$report"
mkdir -p "$report"
say "schemathesis $SCHEMATHESIS_VERSION: $max_examples examples per operation, seed $seed, at most ${time_limit}s"
# Checks: positive_data_acceptance (a request the document allows is refused) and ignored_auth
# are left out: the document states few of the server's bounds (limit 1-100, replicas 1-5, ...)
# and a few operations, such as log-out, need no credentials by design.
# Excluded operations:
# - /api/v1/invoke/...: proxies to registered upstreams, not the platform's own logic.
# - DELETE /api/v1/keys/{id}: the stateful phase follows GET /api/v1/keys to it and revokes the
#   fuzzing key itself, after which every request is a 401 and tests nothing.
# - GET /api/v1/kv/buckets/{bucket}/watch: a stream that stays open until the client leaves, so
#   every example would wait out the request timeout (its input checks, limits and events are
#   tested in tests/tests/platform/kv_watch.rs).
# POST /api/v1/auth/logout stays: the fuzzer authenticates with the key, which it cannot end.
# --generation-with-security-parameters false: otherwise random web4_session cookies (the
# document's other scheme) ride along with the key.
# --rate-limit: the server allows a key 100 requests a second (burst 200); faster, most answers
# would be 429s. --generation-database none: nothing carried over from an earlier run.
# In the background, so that a TERM to this script reaches its trap at once (and stops it).
timeout --signal=INT --kill-after=20 "$time_limit" \
  "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $secret" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,use_after_free,ensure_resource_availability \
  --exclude-path-regex '^/api/v1/invoke/' \
  --exclude-name 'DELETE /api/v1/keys/{id}' \
  --exclude-name 'GET /api/v1/kv/buckets/{bucket}/watch' \
  --generation-with-security-parameters false \
  --max-examples "$max_examples" --seed "$seed" --generation-database none \
  --continue-on-failure --workers 1 --rate-limit 90/s --request-timeout 10 \
  --report junit --report-junit-path "$report/junit.xml" &
fuzz_pid=$!
set +e
wait "$fuzz_pid"
status=$?
set -e
fuzz_pid=''
if (( status == 124 )); then
  echo "schemathesis did not finish within ${time_limit}s" >&2
elif (( status != 0 )); then
  echo "schemathesis found failures (exit $status)" >&2
  if grep -qE 'ERROR|panicked' "$work/server.log"; then
    echo "the server logged these errors:" >&2
    grep -E 'ERROR|panicked' "$work/server.log" | tail -n 20 >&2
  fi
fi
exit "$status"
