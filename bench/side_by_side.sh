#!/usr/bin/env bash
# trade-monitor beside the feedparser floor and lemon24/reader, through ../shared/perf/run_all.sh.
#
#   bench/side_by_side.sh                 # N=250, 1000 and 4000 (one run_all.sh each), then no-validators
#   SIZES="1000" NOVAL=0 bench/side_by_side.sh
#
# Cold: `poll --once --all` on an empty SQLite file (every source once: fetch, parse, store, match,
# track, deliver). Warm: the same command on the store the cold run left (all 304). The config lists
# the N local URLs with `hosts: {"127.0.0.1": {concurrency: 16, min_interval: 0}}` (bench/perf_config.py),
# and is written before the timing starts. The no-validators run starts serve.py --no-validators by hand
# on the last N's feeds and runs reader_bench.py and measure.py against it (every warm poll is a 200 with
# the body of the cold run). Tables go to $WORK/table-N.md and $WORK/table-noval.md.
# Environment: PY (perf venv python), TM (trade-monitor executable), SIZES, NOVAL_N, NOVAL, WORKERS
# (reader's worker counts, default 1), REPEAT (2), WORK (/tmp/tm-side), PORT (8765).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PERF=${PERF:-$(cd "$ROOT/../shared/perf" && pwd)}
PY=${PY:-/tmp/perf-venv/bin/python}
TM=${TM:-$(command -v trade-monitor)}
SIZES=${SIZES-250 1000 4000}  # SIZES="" runs only the no-validators part
NOVAL=${NOVAL:-1} NOVAL_N=${NOVAL_N:-1000}
WORK=${WORK:-/tmp/tm-side} PORT=${PORT:-8765} REPEAT=${REPEAT:-2}
export PY REPEAT WORKERS=${WORKERS:-1}
mkdir -p "$WORK"

config_for() {  # N -> a config folder listing the N URLs serve.py will have
  local n=$1 cfg=$WORK/config-$1
  seq 0 $((n - 1)) | awk -v port="$PORT" '{printf "http://127.0.0.1:%d/feed-%05d.xml\n", port, $1}' \
    >"$WORK/urls-$n.txt"
  "$PY" "$ROOT/bench/perf_config.py" --urls "$WORK/urls-$n.txt" --out "$cfg" >/dev/null
  echo "$cfg"
}

commands_for() {  # N -> PROJECT_* for run_all.sh / measure.py
  local cfg db=$WORK/mon-$1.db
  cfg=$(config_for "$1")
  local tm="$TM --log-level WARNING --config-dir $cfg --db sqlite:///$db"
  export PROJECT_LABEL=trade-monitor
  export PROJECT_COLD="rm -f $db $db-wal $db-shm && $tm poll --once --all >>$WORK/poll-$1.log"
  export PROJECT_WARM="$tm poll --once --all >>$WORK/poll-$1.log"
  export PROJECT_COUNT="sqlite3 $db 'select count(*) from entry'"
}

for n in $SIZES; do
  commands_for "$n"
  echo "== N=$n: PROJECT_COLD=$PROJECT_COLD"
  N=$n DIR=$WORK/feeds-$n PORT=$PORT LOG=$WORK/run-$n.log "$PERF/run_all.sh" | tee "$WORK/out-$n.txt"
  sed -n '/^N=/,$p' "$WORK/out-$n.txt" >"$WORK/table-$n.md"
done

if [ "$NOVAL" = 1 ]; then
  n=$NOVAL_N DIR=$WORK/feeds-$NOVAL_N URL=http://127.0.0.1:$PORT
  commands_for "$n"
  "$PY" "$PERF/gen_feeds.py" -n "$n" --out "$DIR" >/dev/null
  "$PY" "$PERF/serve.py" "$DIR" --port "$PORT" --no-validators &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null || true' EXIT
  for _ in $(seq 50); do
    "$PY" -c "import urllib.request as u; u.urlopen('$URL/_stats')" 2>/dev/null && break
    sleep 0.2
  done
  {
    echo "N=$n, serve.py --no-validators (every answer a 200 with the same body)"
    echo "| run | wall s | CPU s | ms/feed | peak RSS MiB | entries | HTTP 200/304 |"
    echo "|---|---|---|---|---|---|---|"
    (cd "$PERF" && "$PY" reader_bench.py --url "$URL" --workers 1 --repeat "$REPEAT" | grep '^| ' |
      sed 's/^| reader warm/| reader warm, no validators/')
    "$PY" "$PERF/measure.py" --url "$URL" --repeat "$REPEAT" --label "trade-monitor" \
      --cold "$PROJECT_COLD" --warm "$PROJECT_WARM" --count "$PROJECT_COUNT" | grep '^| ' |
      sed 's/^| trade-monitor warm/| trade-monitor warm, no validators/'
  } | tee "$WORK/table-noval.md"
  kill $SERVER
  wait $SERVER 2>/dev/null || true
  trap - EXIT
fi
