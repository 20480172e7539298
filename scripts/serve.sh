#!/usr/bin/env bash
# Runs what serves crowdfund locally, in the foreground, until stopped (SIGINT/SIGTERM stop
# every part): `wrangler dev` (the Worker with local D1, queue and R2) and `crowdfund cron`,
# which fires the crons wrangler.toml declares (wrangler dev does not), once at start, so a
# restart re-drives what a crash left, and then on schedule. `make dev` (scripts/dev.sh) and
# the test harnesses (e2e/src/lib.rs, e2e/browser/server.mjs) all start the site this way.
#
#   scripts/serve.sh --port PORT --state DIR [--inspector-port P] [--var NAME:VALUE]...
#                    [--no-cron | --cron-interval SECONDS] [--log-level LEVEL]
#
# Binds 127.0.0.1 only. Prints "serving on http://127.0.0.1:PORT" once the Worker answers.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

port=8787 state=.wrangler/state inspector="" cron=1 interval="" level=info vars=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --state) state="$2"; shift 2 ;;
    --inspector-port) inspector="$2"; shift 2 ;;
    --var) vars+=(--var "$2"); shift 2 ;;
    --no-cron) cron=0; shift ;;
    --cron-interval) interval="$2"; shift 2 ;;
    --log-level) level="$2"; shift 2 ;;
    *) echo "serve.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
worker="http://127.0.0.1:$port"

pids=()
stop() { trap - EXIT INT TERM; [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop EXIT
trap 'stop; exit 143' INT TERM

wrangler dev --ip 127.0.0.1 --port "$port" ${inspector:+--inspector-port "$inspector"} \
  --persist-to "$state" --log-level "$level" ${vars[@]+"${vars[@]}"} &
pids+=($!)

# Wait (up to 120 s) until the Worker answers.
for _ in $(seq 1200); do
  curl -fsS -m 2 "$worker/api/v1/health" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "serve.sh: wrangler dev exited" >&2; exit 1; }
  sleep 0.1
done
if [ "$cron" = 1 ]; then
  target/release/crowdfund cron --url "$worker" ${interval:+--interval "$interval"} &
  pids+=($!)
fi
echo "serving on $worker"
wait "${pids[0]}"
