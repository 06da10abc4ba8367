#!/usr/bin/env bash
# Issue 24, part 4: cells of the compression trade-off on a local 3-process cluster (`actors up`) with every learning
# message delayed by the modelled link (timing.realtime-links = on: latency + bytes / 100 Mb/s on the wall clock), their
# wall-clock time to target beside the simulation's prediction for the same spec. The simulation's compute time is
# calibrated to the cluster's own step time (an uncompressed run with the links off), since the cluster computes for real.
#   bash docs/compression-cluster.sh [OUT]        (about 6 minutes on 2 cores; then the comparison table is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
A=${ACTORS:-src/Actors.Cli/bin/Release/net10.0/actors}
L=${ACTORS_LOADTESTS:-loadtests/Actors.LoadTests/bin/Release/net10.0/actors-loadtests}
OUT=${1:-runs/compression-cluster}
PORT=${PORT:-4795}
STEPS=${STEPS:-300}
rm -rf "$OUT"; mkdir -p "$OUT/cluster" "$OUT/sim"
COMMON=(--set experiment.steps="$STEPS" --set experiment.eval-every=25 --set optimizer.lr=0.1 --set optimizer.momentum=0.9
        --set compression.error-feedback=on --set compression.scaling=contractive --set timing.latency-ms=1 --set timing.bandwidth-mbps=100)
declare -A CELLS=(
  [none]="--set compression.type=none"
  [topk-10]="--set compression.type=topk --set compression.ratio=0.1"
  [random-block-10]="--set compression.type=random-block --set compression.ratio=0.1"
  [powersgd-r16]="--set compression.type=powersgd --set compression.rank=16"
)

"$A" up --nodes 3 --port "$PORT" > "$OUT/up.log" 2>&1 &
UP=$!
trap 'kill $UP 2>/dev/null || true' EXIT
for _ in $(seq 60); do grep -c " up: " "$OUT/up.log" | grep -q 3 && break; sleep 1; done

# Calibration: the cluster's own time per synchronous step, links off.
"$A" run --quiet --cluster "127.0.0.1:$PORT" --out "$OUT/calibration" "${COMMON[@]}" --set compression.type=none --set timing.realtime-links=off
WALL=$(python3 -c "import json;print(json.load(open('$OUT/calibration/summary.json'))['virtual_time_s'])")
COMPUTE_MS=$(python3 -c "print(round(max(0.0, $WALL / $STEPS * 1000 - 1.0), 3))")   # minus the 1 ms latency the model adds
echo "calibration: ${WALL} s for $STEPS steps on the cluster -> timing.compute-ms = $COMPUTE_MS"

for cell in none topk-10 random-block-10 powersgd-r16; do
  # shellcheck disable=SC2086
  "$A" run --quiet --cluster "127.0.0.1:$PORT" --out "$OUT/cluster/$cell" "${COMMON[@]}" ${CELLS[$cell]} --set timing.realtime-links=on
  # shellcheck disable=SC2086
  "$A" run --quiet --out "$OUT/sim/$cell" "${COMMON[@]}" ${CELLS[$cell]} --set timing.compute-ms="$COMPUTE_MS" --set timing.compute-jitter=0
done
"$L" compression-tradeoff --compare "$OUT"
