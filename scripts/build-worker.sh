#!/usr/bin/env bash
# Builds the Worker bundle (worker/build/) with worker-build, pointing it at the tools that
# scripts/tools.sh installed instead of letting it download them (it cannot, here).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
cd "$root/worker"
exec worker-build --release
