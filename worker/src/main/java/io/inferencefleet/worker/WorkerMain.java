package io.inferencefleet.worker;

import io.inferencefleet.worker.config.WorkerConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a worker until SIGTERM/SIGINT, then drains in-flight requests (bounded by
 * {@code shutdown.timeout.ms}), commits and exits. Arguments: {@code [--config=FILE] [--key=value ...]};
 * the environment ({@code FLEET_*}) applies too. Exit codes: 143 after SIGTERM (the JVM's status once
 * the shutdown hook has drained and committed), 2 for a bad configuration, 1 when the worker
 * stopped on its own (e.g. results could not be written).
 */
public final class WorkerMain {
    private WorkerMain() {}

    public static void main(String[] args) throws InterruptedException {
        System.exit(run(List.of(args)));
    }

    public static int run(List<String> args) throws InterruptedException {
        Path file = null;
        Map<String, String> flags = new LinkedHashMap<>();
        for (String arg : args) {
            if (arg.equals("--help") || arg.equals("-h")) {
                System.out.println("Usage: fleet worker [--config=FILE] [--key=value ...]\n\nKeys:\n"
                        + WorkerConfig.documentation());
                return 0;
            }
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0) {
                System.err.println("fleet worker: expected --key=value, got '" + arg + "' (see --help)");
                return 2;
            }
            String key = arg.substring(2, eq);
            String value = arg.substring(eq + 1);
            if (key.equals("config")) {
                file = Path.of(value);
            } else {
                flags.put(key, value);
            }
        }
        List<Worker> workers;
        try {
            workers = startWorkers(file, System.getenv(), flags);
        } catch (IllegalArgumentException e) {
            System.err.println("fleet worker: " + e.getMessage());
            return 2;
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
        return 1;  // a worker stopped on its own
    }

    /**
     * Starts the worker the configuration describes, or with {@code numa.node=-1} one worker per NUMA
     * node, each pinned to its node and named {@code <worker.id>-n<node>} (own shm directory, metrics
     * port {@code metrics.port + node} unless 0 or -1).
     */
    public static List<Worker> startWorkers(Path file, Map<String, String> env, Map<String, String> flags) {
        WorkerConfig config = WorkerConfig.resolve(file, env, flags);
        if (config.get(WorkerConfig.NUMA_NODE) >= 0) {
            return List.of(Worker.start(config));
        }
        List<Worker> workers = new java.util.ArrayList<>();
        try {
            for (int node : config.topology().nodes().keySet()) {
                Map<String, String> perNode = new LinkedHashMap<>(flags);
                perNode.put("numa.node", Integer.toString(node));
                perNode.put("worker.id", config.workerId() + "-n" + node);
                perNode.put("shm.dir", config.shmDir().resolve("n" + node).toString());
                int port = config.get(WorkerConfig.METRICS_PORT);
                perNode.put("metrics.port", Integer.toString(port > 0 ? port + node : port));
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
