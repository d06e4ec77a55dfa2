#!/usr/bin/env bash
# Chaos run (issues 11, 14): kill -9 of workers under `fleet up`, kill -9 of the `fleet broker` process, a 3x
# overload, and kill -9 of the leader in a three-node replicated cluster (failover), each on fresh topics, with
# an independent checker of the results topic (lost, duplicates per kill, peak RSS, peak /dev/shm, drain time). Writes benchmarks/results/chaos-<date>.md (--out=DIR elsewhere).
# Usage: benchmarks/run-chaos.sh [--scenarios=kill,broker,overload,failover] [--kills=10] [--rate=10] [--seconds=60]
#                                [--model=tiny|resnet50] [--overload.rate=N] ...   (--help lists every setting)
# A short trial: benchmarks/run-chaos.sh --kills=2 --broker.kills=1 --seconds=20 --out=benchmarks/target
# Failover alone: benchmarks/run-chaos.sh --scenarios=failover --out=benchmarks/target
# Exactly-once (issue 13): --guarantee=exactly-once: workers on delivery.guarantee=exactly-once, the checker reads
# read_committed, and a duplicate fails the run like a lost request.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f benchmarks/target/benchmarks.jar ] || [ ! -f ops/target/fleet.jar ] || [ -n "${REBUILD:-}" ]; then
  mvn -q -o install -DskipTests
fi
RUN_DIR="$PWD/benchmarks/target/chaos-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN_DIR"

# The harness stops every child itself, SIGTERM included; this is the net for when the harness JVM dies first:
# every pid it started or saw is in children.pids, and each is killed only while its command line still names
# this run directory (never a pid reused by someone else).
child=""
cleanup() {
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ -f "$RUN_DIR/children.pids" ]; then
    while read -r pid; do
      if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$RUN_DIR"; then
        echo "run-chaos.sh: killing leftover pid $pid" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done < "$RUN_DIR/children.pids"
  fi
  # The workers' tensor queues of this run (shm.dir=/dev/shm/inference-fleet/<run dir name>-<scenario>).
  rm -rf /dev/shm/inference-fleet/"$(basename "$RUN_DIR")"-*
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

java @jvm.options -Dorg.slf4j.simpleLogger.log.org.apache.kafka=error -cp benchmarks/target/benchmarks.jar \
  io.inferencefleet.benchmarks.chaos.ChaosRun --command=benchmarks/run-chaos.sh --run.dir="$RUN_DIR" "$@" &
child=$!
wait "$child"
