#!/usr/bin/env bash
# The fleet's benchmark report: ceiling per engine, tuned worker, naive baseline, DJL peer, Pareto sweep of
# engine x batch x predictors x math threads; writes benchmarks/results/fleet-report-<date>/ (report.md + PNG
# plots) and benchmarks/results/LATEST.md (--out=DIR elsewhere).
# Usage: benchmarks/run-report.sh [--name=value ...]; --help lists every name with its default and meaning,
# and estimates the run's duration for the flags given (about 35 min with the defaults on a 2-vCPU VM).
# Run it on an otherwise idle machine. A smoke test of the whole pipeline (~3 min):
#   benchmarks/run-report.sh --rounds=1 --seconds=3 --backlog=20 --rates=1,3 --systems=tuned --pareto.rounds=1 \
#     --pareto.only=auto --out=/tmp/report-smoke
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -pl benchmarks -am install -DskipTests
fi
mkdir -p benchmarks/results
exec java @jvm.options -Dfleet.jvm.options=jvm.options -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.report.FleetReport --command=benchmarks/run-report.sh "$@"
