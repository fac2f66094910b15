# Sourced by run.sh and test.sh: puts the project's npm-installed build tools (wasm-opt) first
# on PATH, where cargo-leptos looks before trying to download its own.
export PATH="$PWD/tools/node_modules/.bin:$PATH"
