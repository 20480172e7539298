#!/usr/bin/env bash
# Builds the Worker bundle (worker/build/) with worker-build, pointing it at the tools that
# scripts/tools.sh installed instead of letting it download them (it cannot, here).
#
# Size: the `worker` profile (Cargo.toml: opt-level "z" for every crate, LTO, one codegen
# unit), then one `wasm-opt -Oz` pass here rather than worker-build's `-O --debuginfo`, which
# keeps the name section (a tenth of the module). `scripts/wasm-size.sh` checks the budget.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
wasm_opt="$root/node_modules/.bin/wasm-opt"
cd "$root/worker"
worker-build --profile worker --no-opt
# The features workerd supports, as worker-build enables them (no newer encodings).
features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types exception-handling)
"$wasm_opt" -Oz "${features[@]/#/--enable-}" build/index_bg.wasm -o build/index_bg.wasm.opt
mv build/index_bg.wasm.opt build/index_bg.wasm
