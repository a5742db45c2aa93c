#!/usr/bin/env bash
# Runs every load-generator scenario against a fresh Switchboard server (pinned to core 0) and the fan-out scenario
# against the Node baseline in bench/peers (same core, same command), with switchboard-loadgen pinned to core 1.
# Appends one JSON line per run to $OUT and prints the Switchboard/baseline fan-out ratio. See docs/performance.md.
#
#   bench/run.sh [BUILD_DIR]            (default build/release if it exists, else build/ci)
# Sizes (environment): FANOUT_MEMBERS=1000 FANOUT_RATE=100 FANOUT_SENDERS=10 LAT_ROOMS=100 LAT_MEMBERS=100
#   LAT_RATE=1000 IDLE_USERS=2000 IDLE_ROOMS=20 IDLE_PRESENCE=1 CHURN_RATE=0 LOGIN_USERS=3000 DURATION=10
#   FANOUT_RATE and LAT_RATE may list several rates ("50 100 200"): one run each, a sweep.
#   SCENARIOS="fanout baseline latency idle churn login"  OUT=bench/results/<date>.jsonl  NO_BUILD=1 to skip building
#   REDIS_URL=redis://... adds a login run with the Redis session store. SERVER_ARGS="--set k=v ..." for the server.
#   Scenario "history" (not in the default list; issue 8): the same chat load against the durable SQLite history
#   and the in-memory one, HIST_ROOMS=50 HIST_MEMBERS=4 HIST_SENDERS=4 HIST_RATE=4000, and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-$([ -d build/release ] && echo build/release || echo build/ci)}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
DURATION=${DURATION:-10}
SCENARIOS=${SCENARIOS:-"fanout baseline latency idle churn login"}
mkdir -p bench/results
OUT=${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl}
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT

if [ -z "${NO_BUILD:-}" ]; then
  cmake --build "$BUILD" --target switchboard switchboard-loadgen
fi
BIN=$BUILD/switchboard
LOADGEN=$BUILD/bench/loadgen/switchboard-loadgen
[ -x "$BIN" ] && [ -x "$LOADGEN" ] || { echo "run.sh: build $BIN and $LOADGEN first" >&2; exit 2; }
[ -d bench/peers/node_modules/ws ] || (cd bench/peers && npm ci --no-audit --no-fund >/dev/null)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# 100 group rooms bench0..bench99 (the server's rooms come from chat.rooms), limits raised so that the generator
# measures throughput instead of the abuse limits; everything else (validation, history in SQLite) stays on.
node -e 'const r=[];for(let i=0;i<100;i++)r.push({id:`bench${i}`,name:`Bench ${i}`});
  console.log(JSON.stringify({chat:{rooms:r}}))' > "$WORK/bench.json"

SERVER_PID=
start_server() {  # $1 = switchboard | node
  rm -f "$WORK/port"
  if [ "$1" = node ]; then
    taskset -c "$SERVER_CPU" node bench/peers/server.mjs --port-file "$WORK/port" > "$WORK/server.log" 2>&1 &
  else
    rm -rf "$WORK/data"
    taskset -c "$SERVER_CPU" "$BIN" --config "$WORK/bench.json" --set server.listen=127.0.0.1:0 \
      --set server.port_file="$WORK/port" --set data.dir="$WORK/data" --set log.level=warn \
      --set analytics.sink=none --set security.login_per_10s=100000000 \
      --set security.max_connections=200000 --set security.max_connections_per_ip=200000 \
      --set chat.rate_limit_messages=100000000 --set chat.min_chat_interval_ms=0 \
      ${SESSION_REDIS:+--set redis.url=$SESSION_REDIS} ${HISTORY_BACKEND:+--set history.backend=$HISTORY_BACKEND} \
      ${SERVER_ARGS:-} > "$WORK/server.log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  [ -s "$WORK/port" ] || { echo "run.sh: server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }
  PORT=$(cat "$WORK/port")
}
stop_server() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=
}
gen() {  # loadgen arguments...; prints the command and appends its JSON line to $OUT
  local cmd=(taskset -c "$GEN_CPU" "$LOADGEN" --port "$PORT" --server-pid "$SERVER_PID" "$@")
  echo "+ ${cmd[*]}" >&2
  "${cmd[@]}" | tee -a "$OUT"
}

fanout() {  # $1 = rate
  echo --scenario fanout --rooms 1 --members "${FANOUT_MEMBERS:-1000}" --senders "${FANOUT_SENDERS:-10}" \
    --rate "$1" --duration "$DURATION"
}
for s in $SCENARIOS; do
  case $s in
    fanout) for rate in ${FANOUT_RATE:-100}; do
        start_server switchboard; gen $(fanout "$rate") --label switchboard; stop_server
      done ;;
    baseline) for rate in ${FANOUT_RATE:-100}; do
        start_server node; gen $(fanout "$rate") --label node-ws-baseline; stop_server
      done ;;
    latency) for rate in ${LAT_RATE:-1000}; do
        start_server switchboard
        gen --scenario fanout --rooms "${LAT_ROOMS:-100}" --members "${LAT_MEMBERS:-100}" --senders 1 \
          --rate "$rate" --duration "$DURATION" --label "latency${HISTORY_BACKEND:+-$HISTORY_BACKEND}"; stop_server
      done ;;
    idle) start_server switchboard
      gen --scenario idle --users "${IDLE_USERS:-2000}" --rooms "${IDLE_ROOMS:-20}" \
        --presence "${IDLE_PRESENCE:-1}" --duration "$DURATION" --label idle; stop_server ;;
    churn) start_server switchboard
      gen --scenario churn --members 20 --rate 50 --users 200 --churn-rate "${CHURN_RATE:-0}" \
        --duration "$DURATION" --label churn; stop_server ;;
    login) start_server switchboard
      gen --scenario login --users "${LOGIN_USERS:-3000}" --concurrency 16 --label memory-sessions; stop_server
      if [ -n "${REDIS_URL:-}" ]; then
        SESSION_REDIS=$REDIS_URL start_server switchboard
        gen --scenario login --users "${LOGIN_USERS:-3000}" --concurrency 16 --label redis-sessions; stop_server
      fi ;;
    history)
      for backend in sqlite memory; do
        HISTORY_BACKEND=$backend start_server switchboard
        gen --scenario fanout --rooms "${HIST_ROOMS:-50}" --members "${HIST_MEMBERS:-4}" \
          --senders "${HIST_SENDERS:-4}" --rate "${HIST_RATE:-4000}" --duration "$DURATION" --label "history-$backend"
        stop_server
      done ;;
    *) echo "run.sh: unknown scenario $s" >&2; exit 2 ;;
  esac
done

# The side-by-side fan-out ratio, from this run's lines.
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const f = (l, rate) =>
    lines.filter((x) => x.scenario === "fanout" && x.label === l && (rate === undefined || x.params.rate === rate)).pop();
  const k = "deliveries_per_server_cpu_s";
  for (const rate of new Set(lines.filter((x) => x.label === "switchboard").map((x) => x.params.rate))) {
    const sb = f("switchboard", rate), nd = f("node-ws-baseline", rate);
    if (sb && nd) {
      console.log(JSON.stringify({ratio: "switchboard/node-ws-baseline", rate, [k]: sb.results[k] / nd.results[k],
        switchboard: sb.results[k], baseline: nd.results[k]}));
    }
  }
  const sq = f("history-sqlite"), mem = f("history-memory");
  if (sq && mem) {
    console.log(JSON.stringify({ratio: "history sqlite/memory", [k]: sq.results[k] / mem.results[k],
      sqlite: sq.results[k], memory: mem.results[k]}));
  }' "$OUT" | tee -a "$OUT"
echo "results: $OUT" >&2
