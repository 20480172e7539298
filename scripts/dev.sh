#!/usr/bin/env bash
# Serves crowdfund locally: wrangler dev (Worker, D1, queue, R2, cron) on 127.0.0.1:$1 with
# state in $2; loads data/seed.json through the write API when the database is empty.
set -euo pipefail
port="${1:-8787}"; state="${2:-.wrangler/state}"
cd "$(dirname "$0")/.."
url="http://127.0.0.1:$port"

wrangler dev --ip 127.0.0.1 --port "$port" --persist-to "$state" --test-scheduled --log-level info &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT INT TERM

# Wait (up to 60 s) until the Worker answers, then seed if the site is empty.
for _ in $(seq 600); do
  curl -fsS "$url/api/v1/health" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { echo "wrangler dev exited" >&2; exit 1; }
  sleep 0.1
done
target/release/crowdfund seed --to "$url" --if-empty data/seed.json
echo
echo "  crowdfund is serving on $url  (Ctrl-C stops it)"
echo
wait $pid
