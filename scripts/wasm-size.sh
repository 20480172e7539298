#!/usr/bin/env bash
# The Worker's size budget (`make size`, part of `make test`): the wasm that `make
# worker-bundle` built, gzipped with `gzip -9`, must stay within BUDGET bytes. Every cold start
# pays for these bytes, so a change that grows them past the budget fails the tests; lower the
# budget when a change shrinks them (docs/BENCHMARKS.md, "The write path", says where they go).
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=466000
wasm=worker/build/index_bg.wasm
if [ ! -s "$wasm" ]; then
  echo "wasm-size: $wasm is missing: run make worker-bundle" >&2
  exit 1
fi
bytes=$(gzip -9c "$wasm" | wc -c)
if [ "$bytes" -gt "$BUDGET" ]; then
  echo "wasm-size: $wasm is $bytes bytes gzipped, over the budget of $BUDGET" >&2
  exit 1
fi
echo "wasm-size: $bytes bytes gzipped (budget $BUDGET)"
