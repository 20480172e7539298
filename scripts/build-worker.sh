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
# The features workerd supports, as worker-build enables them (no newer encodings).
features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types exception-handling)
# build/: the request Worker (wrangler.toml), the JSON API and stored pages, no renderer;
# build-publisher/: the publisher Worker (publisher.toml), every route, the queue consumer.
for target in "build --features front" "build-publisher"; do
  set -- $target
  out="$1"
  shift
  worker-build --profile worker --no-opt --out-dir "$out" . "$@"
  "$wasm_opt" -Oz "${features[@]/#/--enable-}" "$out/index_bg.wasm" -o "$out/index_bg.wasm.opt"
  mv "$out/index_bg.wasm.opt" "$out/index_bg.wasm"
done
