package io.inferencefleet.worker;

import io.inferencefleet.worker.config.KeyValueArgs;
import io.inferencefleet.worker.config.WorkerConfig;
import io.inferencefleet.worker.numa.NumaTopology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a worker until SIGTERM/SIGINT, then drains in-flight requests (bounded by
 * {@code shutdown.timeout.ms}), commits and exits. Arguments: {@code [--config=FILE]
 * [--args-file=FILE] [--key=value ...]}; the environment ({@code FLEET_*}) applies too. Exit codes
 * ({@link WorkerExit}): 143 after SIGTERM (the JVM's status once the shutdown hook has drained and
 * committed), 2 for a bad configuration, 1 when the worker stopped on its own (an agent died, results
 * could not be written), 3 when Kafka refused it for good (authentication, authorization), 4 when its
 * transactional producer was fenced ({@code delivery.guarantee=exactly-once}: a zombie, or another
 * instance with its id).
 */
public final class WorkerMain {
    private WorkerMain() {}

    public static void main(String[] args) throws InterruptedException {
        System.exit(run(List.of(args)));
    }

    public static int run(List<String> args) throws InterruptedException {
        if (args.contains("--help") || args.contains("-h")) {
            System.out.println("Usage: fleet worker [--config=FILE] [--args-file=FILE] [--key=value ...]\n\nKeys:\n"
                    + WorkerConfig.documentation());
            return 0;
        }
        List<Worker> workers;
        try {
            Map<String, String> flags = new LinkedHashMap<>(KeyValueArgs.parse(args));
            String file = flags.remove("config");
            workers = startWorkers(file == null ? null : Path.of(file), System.getenv(), flags);
        } catch (IllegalArgumentException e) {
            System.err.println("fleet worker: " + e.getMessage());
            return WorkerExit.CONFIG_ERROR;
        }
        Thread hook = new Thread(() -> closeAll(workers), "worker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        // Any worker stopping on its own ends the process; a supervisor (fleet up) restarts it.
        while (workers.stream().allMatch(Worker::isRunning)) {
            Thread.sleep(200);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shutdownInProgress) {
            return 0;  // SIGTERM/SIGINT: the hook drains, commits and closes
        }
        closeAll(workers);
        int code = WorkerExit.FAILED;
        for (Worker worker : workers) {
            if (worker.stopReason() != null) {
                System.err.println("fleet worker: stopped: " + worker.stopReason());
                code = Math.max(code, worker.exitCode());
            }
        }
        return code;
    }

    /**
     * Starts the worker the configuration describes, or with {@code numa.node=-1} one worker per NUMA
     * node that has CPUs this process may run on, each pinned to those CPUs, named
     * {@code <worker.id>-n<node>}, with the metrics port and shm directory of its {@link WorkerConfig#slot slot}.
     */
    public static List<Worker> startWorkers(Path file, Map<String, String> env, Map<String, String> flags) {
        WorkerConfig config = WorkerConfig.resolve(file, env, flags);
        if (config.numaNode() >= 0) {
            return List.of(Worker.start(config));
        }
        List<Worker> workers = new ArrayList<>();
        try {
            int ordinal = 0;
            for (int node : config.topology().nodes().keySet()) {
                Map<String, String> perNode = new LinkedHashMap<>(flags);
                perNode.put(WorkerConfig.NUMA_NODE.name(), Integer.toString(node));
                // Read once, before the first worker pins this thread (which would narrow a later read).
                perNode.put(WorkerConfig.NUMA_ALLOWED_CPUS.name(), NumaTopology.cpuList(config.allowedCpus()));
                perNode.putAll(config.slot(config.workerId() + "-n" + node, ordinal++).flags());
                workers.add(Worker.start(WorkerConfig.resolve(file, env, perNode)));
            }
        } catch (RuntimeException e) {
            closeAll(workers);
            throw e;
        }
        return workers;
    }

    private static void closeAll(List<Worker> workers) {
        workers.parallelStream().forEach(Worker::close);
    }
}
