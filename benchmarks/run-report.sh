#!/usr/bin/env bash
# The fleet's benchmark report: ceiling, tuned worker, naive baseline, DJL peer, Pareto sweep of thread
# settings; writes benchmarks/results/fleet-report-<date>/ (report.md + PNG plots) and benchmarks/results/LATEST.md.
# Usage: benchmarks/run-report.sh [--rounds=2] [--seconds=15] [--backlog=160] [--rates=1,3,5,...]
#                                 [--systems=tuned,naive,djl] [--pareto=true] [--pareto.rate=5] [--pareto.backlog=80]
# Takes about 30 minutes with the defaults on a 2-vCPU VM; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -pl benchmarks -am install -DskipTests
fi
mkdir -p benchmarks/results
exec java @jvm.options -Dfleet.jvm.options=jvm.options -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.report.FleetReport --command=benchmarks/run-report.sh "$@"
