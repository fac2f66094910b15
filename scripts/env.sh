# Sourced by run.sh and test.sh: puts the project's npm-installed build tools (wasm-opt) first
# on PATH, where cargo-leptos looks before trying to download its own.
export PATH="$PWD/tools/node_modules/.bin:$PATH"

# A CI run builds once from clean: incremental state would only double target/'s size.
if [[ ${CI:-} == true ]]; then export CARGO_INCREMENTAL=0; fi
