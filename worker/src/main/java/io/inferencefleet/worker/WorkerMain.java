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
        WorkerConfig config;
        try {
            config = WorkerConfig.resolve(file, System.getenv(), flags);
        } catch (IllegalArgumentException e) {
            System.err.println("fleet worker: " + e.getMessage());
            return 2;
        }
        Worker worker = Worker.start(config);
        Thread hook = new Thread(worker::close, "worker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        worker.awaitStop();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shutdownInProgress) {
            return 0;  // SIGTERM/SIGINT: the hook drains, commits and closes
        }
        worker.close();
        return 1;  // the intake stopped on its own

    }
}
