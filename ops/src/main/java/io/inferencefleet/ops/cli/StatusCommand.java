package io.inferencefleet.ops.cli;

import io.inferencefleet.ops.fleet.FleetState;
import io.inferencefleet.ops.fleet.FleetStatus;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code fleet status}: the workers {@code fleet up} runs (state file, /ready, /metrics) and their consumer group. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the workers of `fleet up` (from <run-dir>/state.json): process, readiness, results by"
            + " status, in-flight requests, throughput over --sample-ms, assigned partitions and lag; then the group."
            + " Exit code 3 when `fleet up` is not running.")
final class StatusCommand implements Callable<Integer> {
    private static final String ROW = "%-26s %4s %-7s %7s %-5s %-5s %-8s %7s %6s %7s %9s %7s %5s  %s%n";

    @Spec
    CommandSpec spec;

    @Option(names = "--run-dir", defaultValue = ".fleet/run", paramLabel = "DIR",
            description = "Run directory of `fleet up` (default: ${DEFAULT-VALUE}).")
    Path runDir;

    @Option(names = "--json", description = "One JSON document instead of the table.")
    boolean json;

    @Option(names = "--sample-ms", defaultValue = "1000", paramLabel = "MS",
            description = "Throughput window: two scrapes of /metrics this far apart (default: ${DEFAULT-VALUE}).")
    long sampleMs;

    @Option(names = {"-X", "--kafka"}, paramLabel = "KEY=VALUE",
            description = "Kafka Admin client setting (security.protocol, sasl.*, ssl.*, ...); repeatable.")
    Map<String, String> kafka = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        // The Admin client's connection warnings would bury the table; failures are reported in it.
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
        FleetState state = FleetState.read(runDir);
        FleetStatus status = FleetStatus.collect(state, Duration.ofMillis(Math.max(0, sampleMs)), new LinkedHashMap<>(kafka));
        if (json) {
            out.println(FleetState.toJson(status));
            out.flush();
            return status.upRunning() ? 0 : 3;
        }
        out.printf("fleet up pid %d %s, started %s; group %s at %s, topic %s%n%n", status.supervisorPid(),
                status.upRunning() ? "running" : "NOT RUNNING", status.startedAt(), status.groupId(),
                status.bootstrapServers(), status.inputTopic());
        out.printf(ROW, "WORKER", "NODE", "CPUS", "PID", "ALIVE", "READY", "STATE", "RESTART", "OK", "ERROR", "EXPIRED",
                "INFLT", "REQ/S", "PARTITIONS (LAG)");
        for (FleetStatus.Worker w : status.workers()) {
            Map<String, Long> r = w.requests();
            out.printf(ROW, w.id(), w.node(), w.cpus(), w.pid() > 0 ? Long.toString(w.pid()) : "-", yesNo(w.alive()),
                    w.ready() == null ? "-" : yesNo(w.ready()), w.state(), w.restarts(), count(r, "ok"), count(r, "error"),
                    count(r, "expired"), w.inFlight() == null ? "-" : w.inFlight(),
                    w.requestsPerSecond() == null ? "-" : String.format("%.1f", w.requestsPerSecond()),
                    (w.partitions().isEmpty() ? "none" : String.join(",", w.partitions()))
                            + (w.lag() == null ? "" : " (" + w.lag() + ")"));
        }
        FleetStatus.Group g = status.group();
        out.println();
        if (g.error() != null) {
            out.printf("group    %s: unavailable (%s)%n", status.groupId(), g.error());
        } else {
            out.printf("group    %s: %s, %d members, %d of %d partitions of %s assigned, total lag %d%n", status.groupId(),
                    g.state(), g.members(), g.assignedPartitions(), g.partitions(), status.inputTopic(), g.totalLag());
        }
        out.flush();
        return status.upRunning() ? 0 : 3;
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    private static String count(Map<String, Long> byStatus, String status) {
        return byStatus == null ? "-" : Long.toString(byStatus.getOrDefault(status, 0L));
    }
}
