package io.inferencefleet.benchmarks.report;

import io.inferencefleet.benchmarks.worker.OpenLoopSuite;
import io.inferencefleet.client.InferenceClient;
import io.inferencefleet.kafka.local.SingleNodeKafka;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One worker JVM of one system under test, on fresh topics, warmed up and ready to measure. Closing
 * it sends SIGTERM (every system drains and commits on it) and waits; a worker that does not stop
 * within 60 s is killed.
 */
final class Session implements AutoCloseable {
    private static final Duration RESULT_TIMEOUT = Duration.ofMinutes(5);
    static final int[] WARM_UP_WAVES = {2, 8, 16, 16};

    private final String tag;
    private final Process process;
    private final InferenceClient client;
    private final List<Path> photos;
    private volatile String engine;

    /** Images/s in the steady part of a backlog (first and last 10 % of completions left out). */
    record Backlog(int requests, double imagesPerSecond, int errors, double seconds) {}

    private Session(String tag, Process process, InferenceClient client, List<Path> photos) {
        this.tag = tag;
        this.process = process;
        this.client = client;
        this.photos = photos;
    }

    static Session start(SingleNodeKafka kafka, SystemUnderTest sut, String tag, Path modelDir, Path imagesDir, List<Path> photos,
                         Path logDir) throws Exception {
        String in = tag + "-in";
        String out = tag + "-out";
        kafka.createTopic(in, 2);
        kafka.createTopic(out, 1);
        SystemUnderTest.Endpoints endpoints = new SystemUnderTest.Endpoints(kafka.bootstrapServers(), in, out, tag, modelDir,
                imagesDir, tag);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + jvmOptions(), "-cp", System.getProperty("java.class.path"), sut.mainClass()));
        command.addAll(sut.args().apply(endpoints));
        Files.createDirectories(logDir);
        Path log = logDir.resolve(tag + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(sut.env());
        Process process = builder.start();
        Session session = null;
        try {
            InferenceClient client = InferenceClient.builder(Map.of("bootstrap.servers", kafka.bootstrapServers()))
                    .requestsTopic(in).resultsTopic(out).defaultTimeout(RESULT_TIMEOUT).build();
            session = new Session(tag, process, client, photos);
            session.warmUp();
            return session;
        } catch (Exception e) {
            String tail = logTail(log);
            if (session != null) {
                session.close();
            } else {
                stop(process);
            }
            throw new IllegalStateException(sut.name() + " did not answer its warm-up requests: " + e + "\n" + tail, e);
        }
    }

    /** Paddle's first runs, the JIT and the consumer group's first assignment happen here, unmeasured. */
    private void warmUp() throws Exception {
        // Waves of growing size: the first proves the worker is up; the rest give the JIT (worker, broker
        // and client) a few hundred iterations of the whole path before anything is measured.
        for (int wave = 0; wave < WARM_UP_WAVES.length; wave++) {
            List<CompletableFuture<InferenceResult>> futures = new ArrayList<>();
            for (int i = 0; i < WARM_UP_WAVES[wave]; i++) {
                futures.add(client.submit(request("warm-" + wave + "-" + i, i), Duration.ofMinutes(3)));
            }
            for (CompletableFuture<InferenceResult> future : futures) {
                while (!future.isDone()) {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("worker exited with " + process.exitValue());
                    }
                    Thread.sleep(50);
                }
                InferenceResult result = future.get();
                if (result.status() != InferenceResult.Status.OK) {
                    throw new IllegalStateException("warm-up result " + result);
                }
                if (engine == null && result.model() != null) {
                    engine = result.model().engine();
                }
            }
        }
    }

    /**
     * The inference engine the worker reported in its warm-up results' model field (as built by Paddle,
     * so a fallback shows), or null if the system does not report one (the naive baseline, the DJL peer).
     */
    String engine() {
        return engine;
    }

    /** Publishes {@code requests} at once and measures how fast the worker works the backlog off. */
    Backlog backlog(int requests) throws Exception {
        List<CompletableFuture<InferenceResult>> futures = new ArrayList<>(requests);
        long[] done = new long[requests];
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            int index = i;
            futures.add(client.submit(request("backlog-" + i, i)).whenComplete((r, e) -> done[index] = System.nanoTime()));
        }
        int errors = 0;
        for (CompletableFuture<InferenceResult> future : futures) {
            try {
                if (future.get().status() != InferenceResult.Status.OK) {
                    errors++;
                }
            } catch (Exception e) {
                errors++;
            }
        }
        long[] sorted = done.clone();
        java.util.Arrays.sort(sorted);
        int from = requests / 10;
        int to = requests - 1 - requests / 10;
        double steady = (to - from) / ((sorted[to] - sorted[from]) / 1e9);
        return new Backlog(requests, steady, errors, (sorted[requests - 1] - start) / 1e9);
    }

    /** A constant offered rate for {@code seconds}, latency from each request's scheduled send time. */
    OpenLoopSuite.Phase openLoop(double rate, int seconds) throws Exception {
        return OpenLoopSuite.run(client, photos, rate, seconds);
    }

    private InferenceRequest request(String id, int i) {
        return InferenceRequest.of(tag + "-" + id, photos.get(i % photos.size()).toUri().toString());
    }

    private static String logTail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        try {
            client.close();
        } finally {
            stop(process);
        }
    }

    /** SIGTERM (every system drains and commits on it), then SIGKILL after 60 s. */
    private static void stop(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static Path jvmOptions() {
        String configured = System.getProperty("fleet.jvm.options");
        Path path = Path.of(configured != null ? configured : "jvm.options").toAbsolutePath();
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("JVM options file " + path + " not found (-Dfleet.jvm.options=...)");
        }
        return path;
    }
}
