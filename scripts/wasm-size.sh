#!/usr/bin/env bash
# The Workers' size budgets (`make size`, part of `make test`): the wasm that `make
# worker-bundle` built, gzipped with `gzip -9`, must stay within its budget. The request
# Worker's bytes are what a visitor's request pays for at a cold start; the publisher's, a
# publish's. A change that grows them past a budget fails the tests; lower the budget when a
# change shrinks them (docs/BENCHMARKS.md, "The write path", says where they go).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
check() {
  local name="$1" wasm="$2" budget="$3"
  if [ ! -s "$wasm" ]; then
    echo "wasm-size: $wasm is missing: run make worker-bundle" >&2
    exit 1
  fi
  local bytes
  bytes=$(gzip -9c "$wasm" | wc -c)
  if [ "$bytes" -gt "$budget" ]; then
    echo "wasm-size: the $name's $wasm is $bytes bytes gzipped, over the budget of $budget" >&2
    status=1
  else
    echo "wasm-size: the $name: $bytes bytes gzipped (budget $budget)"
  fi
}
check "request Worker" worker/build/index_bg.wasm 294000
check "publisher Worker" worker/build-publisher/index_bg.wasm 463000
exit $status
