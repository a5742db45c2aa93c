#!/usr/bin/env bash
# Draws the plots of docs/performance.md from load-generator JSON lines (bench/run.sh output), with gnuplot.
#
#   bench/plot.sh [RESULTS.jsonl] [OUT_DIR]     (default docs/performance-results.jsonl, docs/plots)
#
# For each scenario, label and rate it plots the newest line of the file, so appending a new run redraws the
# plots with it. Needs gnuplot (Debian: gnuplot-nox) and node.
set -euo pipefail
cd "$(dirname "$0")/.."
IN=${1:-docs/performance-results.jsonl}
OUT=${2:-docs/plots}
command -v gnuplot >/dev/null || { echo "plot.sh: install gnuplot (apt-get install gnuplot-nox)" >&2; exit 2; }
mkdir -p "$OUT"
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT

# One whitespace-separated table per series: rate, deliveries per server CPU-second, p50, p90, p99 (ms).
node -e '
  const fs = require("fs");
  const [file, dir] = process.argv.slice(1);
  const newest = new Map();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const x = JSON.parse(line);
    if (x.scenario !== "fanout" || !x.results || (x.errors && x.errors.total > 0)) continue;
    const series = x.label === "latency" ? "latency" : x.params.rooms === 1 ? x.label : null;
    if (!series) continue;
    newest.set(`${series} ${x.params.rate}`, {series, x});
  }
  const tables = {};
  for (const {series, x} of newest.values()) {
    const r = x.results, l = r.latency_ms;
    (tables[series] ??= []).push([x.params.rate, r.deliveries_per_server_cpu_s, l.p50, l.p90, l.p99]);
  }
  for (const [series, rows] of Object.entries(tables)) {
    rows.sort((a, b) => a[0] - b[0]);
    fs.writeFileSync(`${dir}/${series}.dat`, rows.map((r) => r.join(" ")).join("\n") + "\n");
  }' "$IN" "$DATA"

for f in switchboard node-ws-baseline latency; do
  [ -s "$DATA/$f.dat" ] || { echo "plot.sh: no error-free $f fan-out runs in $IN" >&2; exit 1; }
done

gnuplot <<EOF
set terminal pngcairo size 900,520 font ",11"
set grid
set key top left

set output "$OUT/fanout-efficiency.png"
set title "Fan-out, 1 room x 1000 members: deliveries per server CPU-second"
set xlabel "offered chat rate (chats/s, 100-byte content)"
set ylabel "deliveries per server CPU-second"
set yrange [0:*]
set format y "%.0s%c"
plot "$DATA/switchboard.dat" using 1:2 with linespoints lw 2 pt 7 title "Switchboard", \
     "$DATA/node-ws-baseline.dat" using 1:2 with linespoints lw 2 pt 5 title "Node ws baseline", \
     250000 with lines dt 2 lc rgb "#888888" title "target 250k"

set output "$OUT/latency.png"
set title "Fan-out latency, 100 rooms x 100 members (server and generator one core each)"
set xlabel "offered chat rate (chats/s over all rooms)"
set ylabel "end-to-end latency (ms)"
set logscale y
set yrange [*:*]
set format y "%g"
plot "$DATA/latency.dat" using 1:3 with linespoints lw 2 pt 7 title "p50", \
     "$DATA/latency.dat" using 1:4 with linespoints lw 2 pt 5 title "p90", \
     "$DATA/latency.dat" using 1:5 with linespoints lw 2 pt 9 title "p99", \
     5 with lines dt 2 lc rgb "#888888" title "target p99 5 ms"
EOF
echo "plots: $OUT/fanout-efficiency.png $OUT/latency.png" >&2
