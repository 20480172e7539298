#!/usr/bin/env bash
# `make bench`: the generator against Hugo, in one run, on the shared synthetic snapshots
# (/work/shared/bench). Prints the figures docs/BENCHMARKS.md records:
#   1. full build, ours (`crowdfund build`) and Hugo's (the equivalent site from to_hugo.py),
#      both writing to tmpfs: wall time, peak memory (/usr/bin/time -v), files, bytes;
#   2. re-rendering the pages of one vote at 1k and 100k projects, in process
#      (generator/examples/vote_render.rs), plus the render-only throughput of a full build.
# Installs Debian's hugo and time when missing. Snapshots and Hugo sites are generated once
# into target/bench/ and reused. Environment:
#   BENCH_SIZES="1000 10000 100000"  project counts
#   BENCH_RUNS_SMALL=5  BENCH_RUNS_MEDIUM=3  BENCH_RUNS_LARGE=1   runs per contender and size
#                       (<=1k, <=10k, larger); the table shows the median
#   BENCH_VOTES=20000   vote re-renders per snapshot
#   BENCH_SHARED=/work/shared/bench  where make_snapshot.py and to_hugo.py live
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${BENCH_SIZES:-"1000 10000 100000"}
RUNS_SMALL=${BENCH_RUNS_SMALL:-5}
RUNS_MEDIUM=${BENCH_RUNS_MEDIUM:-3}
RUNS_LARGE=${BENCH_RUNS_LARGE:-1}
VOTES=${BENCH_VOTES:-20000}
SHARED=${BENCH_SHARED:-/work/shared/bench}
CACHE=target/bench
SHM=/dev/shm/crowdfund-bench.$$
CLI=target/release/crowdfund
VOTE=target/release/examples/vote_render

say() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }
bench_start=$EPOCHREALTIME

# --- tools: Debian's hugo and GNU time, once -----------------------------------------------
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "$@" >/dev/null; }
}
if ! command -v hugo >/dev/null 2>&1; then
  say "installing Debian's hugo"
  apt_install hugo
fi
if ! command -v wrk >/dev/null 2>&1; then
  say "installing Debian's wrk (the edge benchmark's load)"
  apt_install wrk
fi
if [ ! -x /usr/bin/time ]; then
  say "installing GNU time"
  apt_install time
fi
[ -d /dev/shm ] && [ -w /dev/shm ] || { echo "bench: needs a writable tmpfs at /dev/shm" >&2; exit 1; }

# --- binaries (make bench has built the CLI already; cargo is a no-op then) ----------------
say "building the CLI and the vote_render example (release)"
cargo build --quiet --release -p crowdfund-generator --features cli --bin crowdfund
cargo build --quiet --release -p crowdfund-generator --example vote_render

# --- data: snapshots and Hugo sites, cached under target/bench ------------------------------
mkdir -p "$CACHE"
for n in $SIZES; do
  snap=$CACHE/snapshot-$n.json
  if [ ! -s "$snap" ]; then
    say "generating $snap"
    python3 "$SHARED/make_snapshot.py" "$n" > "$snap.tmp" && mv "$snap.tmp" "$snap"
  fi
  site=$CACHE/hugo-$n
  if [ ! -f "$site/.complete" ] || [ "$snap" -nt "$site/.complete" ]; then
    say "generating the Hugo site $site"
    rm -rf "$site"
    python3 "$SHARED/to_hugo.py" "$snap" "$site"
    touch "$site/.complete"
  fi
done

# --- full builds ------------------------------------------------------------------------------
mkdir -p "$SHM"
trap 'rm -rf "$SHM"' EXIT INT TERM
cores=$(nproc)
RESULTS=$SHM/results.tsv
: > "$RESULTS"

# The wall and CPU clocks of a command, to the microsecond (GNU time prints centiseconds).
CLOCK='import resource, subprocess, sys, time
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t = time.perf_counter(); rc = subprocess.call(sys.argv[2:]); wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
user, system = r.ru_utime - r0.ru_utime, r.ru_stime - r0.ru_stime
open(sys.argv[1], "w").write("%.4f %.4f %.4f\n" % (wall, user, system)); sys.exit(rc)'

# measure NAME SIZE OUT CMD...: runs CMD into the empty OUT under /usr/bin/time -v, appends
# "name size wall_s maxrss_kb user_s sys_s files bytes" to RESULTS, then empties OUT.
measure() {
  local name=$1 size=$2 out=$3; shift 3
  rm -rf "$out"
  python3 -c "$CLOCK" "$SHM/clock.txt" /usr/bin/time -v -o "$SHM/time.txt" "$@" > "$SHM/cmd.log" 2>&1 ||
    { cat "$SHM/cmd.log" >&2; echo "bench: $name failed" >&2; exit 1; }
  local wall user sys rss files bytes
  read -r wall user sys < "$SHM/clock.txt"
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$SHM/time.txt")
  files=$(find "$out" -type f | wc -l)
  bytes=$(du -sb "$out" | cut -f1)
  rm -rf "$out"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$size" "$wall" "$rss" "$user" "$sys" "$files" "$bytes" >> "$RESULTS"
  say "$(printf '%-4s %7s projects: %8.3f s  %5.2f CPU-s  %6.0f MB peak  %7s files' "$name" "$size" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$files")"
}

say "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $cores cores"
for n in $SIZES; do
  if [ "$n" -le 1000 ]; then runs=$RUNS_SMALL; elif [ "$n" -le 10000 ]; then runs=$RUNS_MEDIUM; else runs=$RUNS_LARGE; fi
  for _ in $(seq "$runs"); do
    # Alternate the contenders, so a burst of load from elsewhere hits both alike.
    measure ours "$n" "$SHM/ours" "$CLI" build --input "$CACHE/snapshot-$n.json" --out "$SHM/ours"
    measure hugo "$n" "$SHM/hugo" hugo --quiet --source "$CACHE/hugo-$n" --destination "$SHM/hugo"
  done
done
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- vote re-render and render-only throughput -----------------------------------------------
vote_sizes=""
for n in $SIZES; do
  case " 1000 100000 " in *" $n "*) vote_sizes="$vote_sizes $CACHE/snapshot-$n.json" ;; esac
done
[ -n "$vote_sizes" ] || vote_sizes="$CACHE/snapshot-$(echo "$SIZES" | awk '{print $1}').json"
say "vote re-render: $VOTES random projects per snapshot"
# shellcheck disable=SC2086
"$VOTE" --renders "$VOTES" --full $vote_sizes > "$SHM/vote.txt"

# --- report -----------------------------------------------------------------------------------
echo
echo "## Full build (median of the runs; both write to tmpfs; $cores cores; $(hugo version | awk '{print $1, $2}'))"
echo
awk -F'\t' -v cores="$cores" '
  function median(list, n,   a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function mb(kb) { return sprintf("%.0f MB", kb / 1024) }
  {
    k = $1 SUBSEP $2
    wall[k] = wall[k] " " $3; cpu[k] = cpu[k] " " ($5 + $6); runs[k]++
    if ($4 > rss[k]) rss[k] = $4
    files[k] = $7; bytes[k] = $8
    if (!($2 in seen)) { seen[$2] = 1; order[++sizes] = $2 }
  }
  END {
    print "| projects | ours | Hugo | Hugo / ours | CPU: Hugo / ours | our peak RSS | Hugo peak RSS | Hugo / ours | our files | Hugo files | our files/s per core used |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    ok = 1
    for (i = 1; i <= sizes; i++) {
      n = order[i]; o = "ours" SUBSEP n; h = "hugo" SUBSEP n
      wo = median(wall[o]); wh = median(wall[h]); co = median(cpu[o]); ch = median(cpu[h])
      ratio = wh / wo; mem = rss[h] / rss[o]
      if (ratio < 10 || mem <= 1) ok = 0
      printf "| %s | %.3f s | %.2f s | **%.1fx** | %.1fx | %s | %s | %.1fx | %d | %d | %.0f |\n",
        n, wo, wh, ratio, ch / co, mb(rss[o]), mb(rss[h]), mem, files[o], files[h], files[o] / co
      detail = detail sprintf("  %7s projects, %d run(s) each: ours %.2f CPU-s (%.2f of %d cores busy, %.0f files/s/core), Hugo %.2f CPU-s (%.2f cores busy); output ours %.0f MB, Hugo %.0f MB\n",
        n, runs[o], co, co / wo, cores, files[o] / wo / cores, ch, ch / wh, bytes[o] / 1e6, bytes[h] / 1e6)
    }
    print ""
    printf "%s", detail
    print ""
    print ok ? "target (>=10x faster, lower peak memory, at every size): met" : "target (>=10x faster, lower peak memory, at every size): NOT met"
  }' "$RESULTS"
echo
echo "## Vote re-render (in process)"
echo
cat "$SHM/vote.txt"
awk '/^ *[0-9]+ +[0-9.]+ +[0-9.]+ .*x / { r = $6; sub("x", "", r); if (r > max) max = r; if (1 / r > max) max = 1 / r }
     END { if (max) printf "\nslowest / fastest median: %.2f (target: within 1.20): %s\n", max, (max <= 1.2 ? "met" : "NOT met") }' "$SHM/vote.txt"
echo
echo "raw runs (name size wall_s maxrss_kb user_s sys_s files bytes):"
sed 's/^/  /' "$RESULTS"
echo
echo "make bench took $(awk -v a="$bench_start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}') s (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
