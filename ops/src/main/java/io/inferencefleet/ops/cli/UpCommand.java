package io.inferencefleet.ops.cli;

import io.inferencefleet.ops.fleet.FleetState;
import io.inferencefleet.ops.fleet.RestartPolicy;
import io.inferencefleet.ops.fleet.Supervisor;
import io.inferencefleet.ops.fleet.WorkerPlan;
import io.inferencefleet.worker.config.KeyValueArgs;
import io.inferencefleet.worker.config.WorkerConfig;
import io.inferencefleet.worker.numa.NumaTopology;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code fleet up}: N workers per NUMA node of this machine, each its own JVM bound to its node's
 * CPUs, kept running by a {@link Supervisor} until Ctrl-C/SIGTERM; {@code fleet status} reads the
 * state file it keeps in the run directory.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start --per-node workers on every NUMA node of this machine (each a JVM under taskset on its"
            + " node's CPUs), restart those that die, stop them all on Ctrl-C/SIGTERM. Every other --key=value"
            + " (see `fleet worker --help`) goes to each worker; --metrics.port is the first worker's port"
            + " (default 9400, then +1 per worker). Worker output: <run-dir>/<worker id>.log.")
final class UpCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--per-node", defaultValue = "1", paramLabel = "N", description = "Workers per NUMA node (default: ${DEFAULT-VALUE}).")
    int perNode;

    @Option(names = "--run-dir", defaultValue = ".fleet/run", paramLabel = "DIR",
            description = "Worker logs and the state file for `fleet status` (default: ${DEFAULT-VALUE}).")
    Path runDir;

    @Option(names = "--max-restarts", defaultValue = "5", paramLabel = "N",
            description = "Restarts of one worker within a minute before giving up on it (default: ${DEFAULT-VALUE}).")
    int maxRestarts;

    @Option(names = "--no-taskset", description = "Start the worker JVMs unbound (workers still pin their own threads).")
    boolean noTaskset;

    @Unmatched
    List<String> args = new ArrayList<>();

    private final Object stateLock = new Object();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (perNode < 1) {
            err.println("fleet up: Invalid value " + perNode + " for --per-node: must be >= 1");
            return 2;
        }
        Map<String, String> flags;
        WorkerConfig config;
        Path configFile;
        try {
            flags = KeyValueArgs.parse(args);
            configFile = flags.containsKey("config") ? Path.of(flags.get("config")).toAbsolutePath() : null;
            // Concluded once here as every worker will (file, environment, flags): a bad key fails now, not N
            // times in the logs, and the workers' ids, ports and shm directories come from this one config.
            Map<String, String> probe = new LinkedHashMap<>(flags);
            probe.remove("config");
            NumaTopology topology = flags.containsKey("numa.topology") ? NumaTopology.parse(flags.get("numa.topology"))
                    : NumaTopology.detect();
            probe.put("numa.node", Integer.toString(topology.nodes().keySet().iterator().next()));
            config = WorkerConfig.resolve(configFile, System.getenv(), probe);
        } catch (IllegalArgumentException e) {
            err.println("fleet up: " + e.getMessage());
            return 2;
        }
        if (Files.isRegularFile(runDir.resolve(FleetState.FILE_NAME))) {
            FleetState previous = FleetState.read(runDir);
            if (previous.supervisorAlive() && previous.supervisorPid() != ProcessHandle.current().pid()) {
                err.println("fleet up: already running as pid " + previous.supervisorPid() + " with run directory "
                        + runDir + " (stop it, or use another --run-dir)");
                return 1;
            }
        }
        Path taskset = noTaskset ? null : WorkerPlan.onPath("taskset");
        String host = hostName();
        WorkerPlan.writeArgsFile(runDir.toAbsolutePath(), WorkerPlan.passThrough(flags));
        List<WorkerPlan.Planned> plan = WorkerPlan.plan(config, configFile, perNode, host,
                Path.of(System.getProperty("java.home"), "bin", "java"), jvmOptions(), System.getProperty("java.class.path"),
                taskset, runDir.toAbsolutePath());
        String startedAt = Instant.now().toString();
        Map<String, WorkerPlan.Planned> byId = new LinkedHashMap<>();
        plan.forEach(p -> byId.put(p.id(), p));

        out.printf("up       %d workers (%d per node on nodes %s)%s; run directory %s%n", plan.size(), perNode,
                config.topology(), taskset == null ? ", without taskset" : "", runDir.toAbsolutePath());
        if (!config.nodesWithoutAllowedCpus().isEmpty()) {
            out.printf("skip     nodes %s: none of their CPUs is allowed (allowed: %s)%n", config.nodesWithoutAllowedCpus(),
                    NumaTopology.cpuList(config.allowedCpus()));
        }
        for (WorkerPlan.Planned p : plan) {
            out.printf("worker   %-28s node %d  cpus %-8s metrics :%d  log %s%n", p.id(), p.node(), p.cpus(),
                    p.metricsPort(), p.log());
        }
        out.flush();

        Supervisor[] holder = new Supervisor[1];
        Runnable writeState = () -> {
            synchronized (stateLock) {
                List<FleetState.Worker> workers = new ArrayList<>();
                for (Supervisor.SlotStatus s : holder[0].status()) {
                    WorkerPlan.Planned p = byId.get(s.id());
                    workers.add(new FleetState.Worker(s.id(), p.node(), p.cpus(), s.pid(), p.metricsPort(),
                            s.startedAt() == null ? null : s.startedAt().toString(), s.restarts(), s.state().name(),
                            s.lastExitCode(), p.log().toString()));
                }
                new FleetState(ProcessHandle.current().pid(), startedAt, host, config.get(WorkerConfig.BOOTSTRAP_SERVERS),
                        config.get(WorkerConfig.GROUP_ID), config.get(WorkerConfig.INPUT_TOPIC), workers).write(runDir);
            }
        };
        Supervisor supervisor = new Supervisor(plan.stream()
                .map(p -> new Supervisor.Child(p.id(), p.command(), p.log())).toList(),
                RestartPolicy.defaults().withMaxRestarts(maxRestarts), event -> {
                    if (holder[0] != null) {
                        writeState.run();
                    }
                });
        holder[0] = supervisor;
        writeState.run();
        // Workers drain for up to shutdown.timeout.ms after SIGTERM; a few seconds more for the JVM to exit.
        Duration stopTimeout = Duration.ofMillis(config.get(WorkerConfig.SHUTDOWN_TIMEOUT_MS))
                .plus(Supervisor.EXIT_AFTER_DRAIN);
        Thread hook = new Thread(() -> {
            try {
                supervisor.stop(stopTimeout);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            writeState.run();
        }, "fleet-up-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        supervisor.start();
        while (!supervisor.awaitTermination(Duration.ofMinutes(1))) {
            // runs until SIGTERM/SIGINT (the hook stops everything) or every slot is given up
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shutdownInProgress) {
            return 0;
        }
        writeState.run();
        err.println("fleet up: every worker was given up (see event=worker_gave_up above and the logs in " + runDir + ")");
        return 1;
    }

    /** The file every JVM of the project takes its flags from (tests: fleet.jvm.options; ./fleet: fleet.home). */
    static Path jvmOptions() {
        String explicit = System.getProperty("fleet.jvm.options");
        if (explicit != null) {
            return Path.of(explicit).toAbsolutePath();
        }
        String home = System.getProperty("fleet.home");
        Path file = home == null ? null : Path.of(home, "jvm.options");
        if (file == null || !Files.isRegularFile(file)) {
            throw new IllegalStateException("cannot find jvm.options (start fleet through the ./fleet launcher, which sets"
                    + " -Dfleet.home, or set -Dfleet.jvm.options=FILE)");
        }
        return file.toAbsolutePath();
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}
