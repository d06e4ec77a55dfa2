#!/usr/bin/env bash
# Micro-batching end to end (issue 12): predictor.batch.max 1, 2, 4, interleaved: ResNet-50 backlog img/s, then
# p50/p99 under an open loop at 0.8x the batch-1 backlog rate.
# Usage: benchmarks/run-batch-benchmark.sh [rounds=2] [requests=240] [open-loop seconds=20]   (about 3 min per round)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -pl benchmarks -am install -DskipTests
fi
mkdir -p benchmarks/results
exec java @jvm.options -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.worker.BatchSizeSuite "${1:-2}" "${2:-240}" "${3:-20}"
