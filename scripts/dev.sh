#!/usr/bin/env bash
# `make dev`: serves crowdfund on 127.0.0.1:$1 with state in $2 (scripts/serve.sh: the Worker
# and its cron), and loads data/seed.json through the write API when the database is empty.
set -euo pipefail
port="${1:-8787}"; state="${2:-.wrangler/state}"
cd "$(dirname "$0")/.."
url="http://127.0.0.1:$port"

scripts/serve.sh --port "$port" --state "$state" &
serve=$!
trap 'kill $serve 2>/dev/null; wait $serve 2>/dev/null' EXIT INT TERM

for _ in $(seq 1200); do
  curl -fsS -m 2 "$url/api/v1/health" >/dev/null 2>&1 && break
  kill -0 $serve 2>/dev/null || { echo "the server exited" >&2; exit 1; }
  sleep 0.1
done
target/release/crowdfund seed --to "$url" --if-empty data/seed.json
echo
echo "  crowdfund is serving on $url  (Ctrl-C stops it)"
echo
wait $serve
