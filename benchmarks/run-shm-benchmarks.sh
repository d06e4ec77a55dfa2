#!/usr/bin/env bash
# Benchmarks of the shm transport (issue 3): handoff latency at 20/200/1000 tensors/s, sustained
# tensors/s, CPU per tensor, page faults and footprint, against ArrayBlockingQueue<float[]> (copies),
# an Agrona ring buffer over /dev/shm and plain memcpy, interleaved per round.
# Usage: benchmarks/run-shm-benchmarks.sh [rounds]   (from anywhere; about 30 s per round, default 5)
# Writes benchmarks/results/shm-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -pl benchmarks -am package -DskipTests
fi
mkdir -p benchmarks/results
exec java @jvm.options -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.shm.ShmBenchmarkSuite "${1:-5}" "benchmarks/results/shm-$(date +%F).md"
