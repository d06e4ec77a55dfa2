#!/usr/bin/env bash
# Open-loop (constant-rate) latency sweep of one worker, corrected for coordinated omission.
# Usage: benchmarks/run-open-loop.sh [seconds-per-rate=20] [rates...]   (default rates 1.4 4 7 9 10 11 12 13)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -pl benchmarks -am install -DskipTests
fi
mkdir -p benchmarks/results
exec java @jvm.options -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.worker.OpenLoopSuite "$@"
