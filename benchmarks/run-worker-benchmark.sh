#!/usr/bin/env bash
# Worker end-to-end throughput vs. the raw predictor (issue: worker), in one run, interleaved.
# Usage: benchmarks/run-worker-benchmark.sh [rounds=2] [requests=240]   (about 1 min per round)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -pl benchmarks -am install -DskipTests
fi
mkdir -p benchmarks/results
exec java @jvm.options -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.worker.WorkerThroughputSuite "${1:-2}" "${2:-240}"
