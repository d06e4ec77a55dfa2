#!/usr/bin/env bash
# Preprocessing cost, crop-only resampling vs the full resize it replaced (issue 11): time and extra RSS per call
# for a 1x30000 PNG, a 224x224 JPEG, a photo and a 4000x3000 JPEG, interleaved, medians; prints the CPU it ran on.
# Usage: benchmarks/run-preprocess-benchmark.sh [rounds=5] [oldSliverRounds=3] [photo=/work/shared/images/aero1.jpg]
# The old path takes about 20 s and 7 GB RSS per 1x30000 call: keep oldSliverRounds small on a shared machine.
# Builds producer, worker and benchmarks in one reactor (nothing is installed into ~/.m2) unless the jar exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -o -q -pl producer,worker,benchmarks package -DskipTests
fi
exec java @jvm.options -Xms256m -Xmx1g -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.preprocess.PreprocessBenchmark "$@"
