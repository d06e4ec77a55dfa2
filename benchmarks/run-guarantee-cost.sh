#!/usr/bin/env bash
# Exactly-once vs at-least-once (issue 13): backlog throughput and open-loop p50/p99 at 80 % of the maximum rate,
# interleaved in one run. Usage: benchmarks/run-guarantee-cost.sh [rounds=2] [requests=240] [seconds=20] [model=resnet50]
# (about 2 min per round with resnet50)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -pl benchmarks -am install -DskipTests
fi
mkdir -p benchmarks/results
exec java @jvm.options -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.worker.GuaranteeCostSuite "${1:-2}" "${2:-240}" "${3:-20}" "${4:-resnet50}"
