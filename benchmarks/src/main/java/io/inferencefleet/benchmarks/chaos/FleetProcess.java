package io.inferencefleet.benchmarks.chaos;

import io.inferencefleet.ops.fleet.FleetState;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code fleet up} as a child process with its own {@code --run-dir}: the supervisor JVM and, below
 * it, one JVM per worker. Workers are found through the supervisor's {@code state.json}
 * ({@link FleetState}) and their {@code /ready} endpoints. {@link #close} stops the supervisor with
 * SIGTERM (it stops its workers) and then SIGKILLs whatever is left of the tree, the worker pids in
 * {@code state.json} included, so that no worker JVM outlives a run.
 */
final class FleetProcess implements AutoCloseable {
    /** A worker slot as {@code state.json} shows it; {@code pid} -1 while none runs. */
    record Slot(String id, long pid, String state, int metricsPort, int restarts) {}

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final Process process;
    private final Path runDir;
    private final Path log;
    private final ChildProcesses children;
    private final Duration stopTimeout;
    private String stopped;

    private FleetProcess(Process process, Path runDir, Path log, ChildProcesses children, Duration stopTimeout) {
        this.process = process;
        this.runDir = runDir;
        this.log = log;
        this.children = children;
        this.stopTimeout = stopTimeout;
    }

    /**
     * Starts {@code fleet up --per-node N --run-dir DIR} with the workers' {@code --key=value} settings.
     *
     * @param stopTimeout how long SIGTERM may take (the workers' shutdown.timeout.ms plus the supervisor's 5 s)
     */
    static FleetProcess start(FleetCli cli, int perNode, Path runDir, Map<String, String> workerSettings,
                              ChildProcesses children, Duration stopTimeout) throws IOException {
        Files.createDirectories(runDir);
        List<String> args = new ArrayList<>(List.of("up", "--per-node", Integer.toString(perNode), "--run-dir", runDir.toString()));
        workerSettings.forEach((k, v) -> args.add("--" + k + "=" + v));
        Path log = runDir.resolve("fleet-up.log");
        Process process = new ProcessBuilder(cli.command(args)).directory(cli.root().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        children.add(process.pid());
        return new FleetProcess(process, runDir, log, children, stopTimeout);
    }

    Path log() {
        return log;
    }

    Path runDir() {
        return runDir;
    }

    boolean supervisorAlive() {
        return process.isAlive();
    }

    /** The slots from state.json (empty until the supervisor has written it); every pid seen is recorded. */
    List<Slot> slots() {
        if (!Files.isRegularFile(runDir.resolve(FleetState.FILE_NAME))) {
            return List.of();
        }
        FleetState state;
        try {
            state = FleetState.read(runDir);
        } catch (RuntimeException e) {
            return List.of();  // being replaced right now: the next read sees the new file
        }
        List<Slot> slots = new ArrayList<>();
        for (FleetState.Worker w : state.workers()) {
            children.add(w.pid());
            slots.add(new Slot(w.id(), w.pid(), w.state(), w.metricsPort(), w.restarts()));
        }
        return slots;
    }

    /** The pids of the worker JVMs now running. */
    List<Long> workerPids() {
        return slots().stream().map(Slot::pid).filter(pid -> pid > 0).toList();
    }

    /** True when {@code expected} slots run a worker process whose {@code /ready} answers 200. */
    boolean allReady(int expected) {
        List<Slot> slots = slots();
        if (slots.size() != expected) {
            return false;
        }
        for (Slot slot : slots) {
            if (slot.pid() <= 0 || !"RUNNING".equals(slot.state()) || !ready(slot.metricsPort())) {
                return false;
            }
        }
        return true;
    }

    static boolean ready(int port) {
        try {
            HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The slot of worker {@code id}, if state.json has it. */
    Optional<Slot> slot(String id) {
        return slots().stream().filter(s -> s.id().equals(id)).findFirst();
    }

    /** Supervisor event lines ({@code event=...}) from the fleet up log, in order. */
    List<String> events() {
        try {
            return Files.readAllLines(log).stream().filter(l -> l.contains("event=")).toList();
        } catch (IOException e) {
            return List.of("(cannot read " + log + ": " + e.getMessage() + ")");
        }
    }

    /** Each worker's log file (by worker id), as fleet up names them. */
    Map<String, Path> workerLogs() {
        Map<String, Path> logs = new LinkedHashMap<>();
        for (Slot slot : slots()) {
            logs.put(slot.id(), runDir.resolve(slot.id() + ".log"));
        }
        return logs;
    }

    /**
     * SIGTERM to the supervisor (it SIGTERMs its workers, which drain and commit), SIGKILL after the
     * stop timeout; then SIGKILL to every worker pid that state.json or the process tree still shows.
     * Returns a line saying how it went. Idempotent.
     */
    String stop() {
        if (!process.isAlive() && stopped != null) {
            return stopped;
        }
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        List<Long> statePids = workerPids();
        StringBuilder how = new StringBuilder();
        long startNs = System.nanoTime();
        process.destroy();
        try {
            if (process.waitFor(stopTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                how.append(String.format("fleet up exited %d after SIGTERM in %.1f s", process.exitValue(),
                        (System.nanoTime() - startNs) / 1e9));
            } else {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                how.append("fleet up did not stop within ").append(stopTimeout.toSeconds()).append(" s of SIGTERM: SIGKILLed");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        List<Long> killed = new ArrayList<>();
        for (long pid : statePids) {
            if (children.isOurs(pid)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                killed.add(pid);
            }
        }
        for (ProcessHandle handle : tree) {
            if (handle.isAlive() && children.isOurs(handle.pid())) {
                handle.destroyForcibly();
                killed.add(handle.pid());
            }
        }
        if (!killed.isEmpty()) {
            how.append("; worker processes left over and SIGKILLed: ").append(killed);
        }
        stopped = how.toString();
        return stopped;
    }

    @Override
    public void close() {
        stop();
    }
}
