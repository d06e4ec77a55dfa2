#!/usr/bin/env bash
# Benchmarks of the Paddle binding (issue: native module): empty JNI call, ResNet-50 batch-1
# latency with 1 and 2 math threads, 2 clones x 1 thread throughput, model load, memory per clone.
# Usage: benchmarks/run-paddle-benchmarks.sh [rounds]   (from anywhere; about 3 min per round)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -pl benchmarks -am package -DskipTests
fi
mkdir -p benchmarks/results
exec java @jvm.options -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.paddle.PaddleBenchmarkSuite "${1:-3}"
