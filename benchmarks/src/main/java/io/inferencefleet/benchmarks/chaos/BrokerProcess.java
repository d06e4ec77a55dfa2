package io.inferencefleet.benchmarks.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code fleet broker --dir DIR --port P} as a child process of its own, so that it can be SIGKILLed
 * and started again on the same directory and port. Its output is appended to a log file; the
 * process counts as started when it prints its {@code broker   KRaft Kafka ... ready in} line.
 */
final class BrokerProcess implements AutoCloseable {
    private final FleetCli cli;
    private final Path dir;
    private final int port;
    private final Path log;
    private final ChildProcesses children;
    private Process process;

    BrokerProcess(FleetCli cli, Path dir, int port, Path log, ChildProcesses children) {
        this.cli = cli;
        this.dir = dir;
        this.port = port;
        this.log = log;
        this.children = children;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    long pid() {
        return process == null ? -1 : process.pid();
    }

    /** Starts the broker and returns once it serves clients; the ready line is returned. */
    synchronized String start(Duration timeout) throws IOException, InterruptedException, TimeoutException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("broker already running as pid " + process.pid());
        }
        Files.createDirectories(dir);
        process = new ProcessBuilder(cli.command(List.of("broker", "--dir", dir.toString(), "--port", Integer.toString(port))))
                .directory(cli.root().toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        children.add(process.pid());
        CompletableFuture<String> ready = new CompletableFuture<>();
        Process started = process;
        Thread copier = new Thread(() -> copyOutput(started, ready), "broker-output-" + started.pid());
        copier.setDaemon(true);
        copier.start();
        try {
            return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("broker exited before it was ready (exit code "
                    + (started.isAlive() ? "?" : started.exitValue()) + "); see " + log, e.getCause());
        }
    }

    private void copyOutput(Process p, CompletableFuture<String> ready) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             OutputStream out = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            out.write(("---- chaos: broker pid " + p.pid() + " started at " + java.time.Instant.now() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (line.startsWith("broker ") && line.contains("ready in")) {
                    ready.complete(line.strip());
                }
            }
        } catch (IOException e) {
            // the process was killed: its pipe ends
        }
        ready.completeExceptionally(new IllegalStateException("broker output ended"));
    }

    /** SIGKILL, then waits until the process is gone. */
    synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /** SIGTERM (a controlled shutdown), SIGKILL after 30 s. */
    @Override
    public synchronized void close() {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
