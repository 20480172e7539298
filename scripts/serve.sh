#!/usr/bin/env bash
# Runs what serves crowdfund locally, in the foreground, until stopped (SIGINT/SIGTERM stop
# every part), as production has it: the edge cache in front, the Worker behind it.
#   - the local edge (Varnish, edge/edge.vcl via scripts/edge.sh) on --port: what visitors
#     reach; it keeps pages as the Worker's headers allow and takes the Worker's purges on
#     --purge-port;
#   - `wrangler dev` (the request Worker, wrangler.toml, and the publisher Worker behind its
#     service binding, publisher.toml, with local D1, queue and R2) on --worker-port;
#   - `crowdfund cron`, which fires the crons wrangler.toml declares (wrangler dev does not),
#     once at start, so a restart re-drives what a crash left, and then on schedule.
# `make dev` (scripts/dev.sh) and the test harnesses (e2e/src/lib.rs, e2e/browser/server.mjs)
# all start the site this way.
#
#   scripts/serve.sh --port PORT --state DIR [--worker-port P] [--purge-port P]
#                    [--inspector-port P] [--var NAME:VALUE]... [--no-edge]
#                    [--no-cron | --cron-interval SECONDS] [--log-level LEVEL]
#
# Binds 127.0.0.1 only. Prints "serving on http://127.0.0.1:PORT" once the site answers there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

port=8787 worker_port="" purge_port="" state=.wrangler/state inspector="" edge=1 cron=1 interval="" level=info
vars=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --worker-port) worker_port="$2"; shift 2 ;;
    --purge-port) purge_port="$2"; shift 2 ;;
    --state) state="$2"; shift 2 ;;
    --inspector-port) inspector="$2"; shift 2 ;;
    --var) vars+=(--var "$2"); shift 2 ;;
    --no-edge) edge=0; shift ;;
    --no-cron) cron=0; shift ;;
    --cron-interval) interval="$2"; shift 2 ;;
    --log-level) level="$2"; shift 2 ;;
    *) echo "serve.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
site="http://127.0.0.1:$port"
if [ "$edge" = 1 ]; then
  worker_port="${worker_port:-$((port + 1))}"
  purge_port="${purge_port:-$((port + 2))}"
  # The Worker's own settings for where it is served from and where its purges go; the
  # caller's --var settings come after, so they win.
  vars=(--var "SITE_URL:$site" --var "EDGE_PURGE_URL:http://127.0.0.1:$purge_port" ${vars[@]+"${vars[@]}"})
else
  worker_port="$port"
  vars=(--var "SITE_URL:$site" ${vars[@]+"${vars[@]}"})
fi
worker="http://127.0.0.1:$worker_port"

pids=()
stop() { trap - EXIT INT TERM; [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop EXIT
trap 'stop; exit 143' INT TERM

# The publisher Worker runs in the same `wrangler dev` (its logs are prefixed
# "[crowdfund-publisher]"), but --var reaches only the first Worker: its config is written
# with the same settings in its [vars], next to a copy of the local secrets.
publisher_dir="${state%/}-publisher"
mkdir -p "$publisher_dir"
[ ! -f .dev.vars ] || cp .dev.vars "$publisher_dir/.dev.vars"
overrides=()
for ((i = 1; i < ${#vars[@]}; i += 2)); do overrides+=("${vars[$i]}"); done
in_vars=0
while IFS= read -r line; do
  case "$line" in
    "[vars]")
      in_vars=1
      echo "$line"
      # The last setting of a name wins, as with --var.
      written=" "
      for ((i = ${#overrides[@]} - 1; i >= 0; i--)); do
        o="${overrides[$i]}"
        case "$written" in *" ${o%%:*} "*) continue ;; esac
        written+="${o%%:*} "
        value="${o#*:}"
        value="${value//\\/\\\\}"
        echo "${o%%:*} = \"${value//\"/\\\"}\""
      done
      continue ;;
    "["*) in_vars=0 ;;
  esac
  if [ "$in_vars" = 1 ]; then
    key="${line%%=*}"
    key="${key// /}"
    skip=0
    for o in ${overrides[@]+"${overrides[@]}"}; do [ "${o%%:*}" != "$key" ] || skip=1; done
    [ "$skip" = 1 ] && continue
  fi
  line="${line/main = \"worker\//main = \"$PWD/worker/}"
  echo "${line/migrations_dir = \"data\//migrations_dir = \"$PWD/data/}"
done < publisher.toml > "$publisher_dir/publisher.toml"

wrangler dev -c wrangler.toml -c "$publisher_dir/publisher.toml" --ip 127.0.0.1 --port "$worker_port" \
  ${inspector:+--inspector-port "$inspector"} --persist-to "$state" --log-level "$level" "${vars[@]}" &
pids+=($!)
if [ "$edge" = 1 ]; then
  scripts/edge.sh "$port" "$purge_port" "$worker_port" "${state%/}-edge" &
  pids+=($!)
fi

# Wait (up to 120 s) until the site answers where visitors reach it.
for _ in $(seq 1200); do
  curl -fsS -m 2 "$site/api/v1/health" >/dev/null 2>&1 && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "serve.sh: a part of the site exited" >&2; exit 1; }
  done
  sleep 0.1
done
if [ "$cron" = 1 ]; then
  target/release/crowdfund cron --url "$worker" ${interval:+--interval "$interval"} &
  pids+=($!)
fi
echo "serving on $site"
wait -n "${pids[@]}"
