package io.inferencefleet.ops.cli;

import io.inferencefleet.client.InferenceClient;
import io.inferencefleet.client.RequestPublisher;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code fleet submit}: publishes one request per image reference and, with {@code --wait}, prints
 * each result as it arrives (through {@link InferenceClient}). Ids are {@code <prefix><n>}, n
 * counting from 0 in the order the references were given.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = {"Publish inference requests for image files, directories, globs, URIs or a list file.",
            "Files become absolute file:// URIs of their real paths; URIs (http://, https://, file:/...) are sent as given.",
            "With --wait, prints one line per result: id, status, top-1 class and score or error code, latency."})
final class SubmitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Parameters(arity = "0..*", paramLabel = "SOURCE", description = "Image files, directories, globs (quote them) or URIs.")
    List<String> sources = new ArrayList<>();

    @Option(names = "--list", paramLabel = "FILE", description = "A file with one SOURCE per line (# comments).")
    Path listFile;

    @Option(names = "--topic", paramLabel = "TOPIC", defaultValue = "images", description = "Requests topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--results-topic", paramLabel = "TOPIC", defaultValue = "predictions",
            description = "Results topic read with --wait (default: ${DEFAULT-VALUE}).")
    String resultsTopic;

    @Option(names = "--rate", paramLabel = "N", description = "Publish N requests per second, evenly spaced (default: as fast as possible).")
    Double rate;

    @Option(names = "--wait", description = "Wait for every result and print it.")
    boolean waitForResults;

    @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "60000",
            description = "With --wait: how long each request may wait for its result (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--id-prefix", paramLabel = "PREFIX", description = "Request ids are PREFIX0, PREFIX1, ... (default: a random 8-hex-digit run id and '-').")
    String idPrefix;

    @Option(names = "--top-k", paramLabel = "K", description = "Ask for the K best classes (1..1000; default: the worker's).")
    Integer topK;

    @Option(names = "--deadline-ms", paramLabel = "MS", description = "Each request expires MS milliseconds after it is sent.")
    Long deadlineMs;

    @Option(names = "--no-progress", negatable = false, description = "No progress bar on stderr.")
    boolean noProgress;

    @Override
    public Integer call() throws IOException, InterruptedException {
        validate();
        List<String> uris;
        try {
            uris = ImageSources.expand(sources, listFile);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (uris.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "nothing to submit: give at least one SOURCE or a --list with entries");
        }
        String prefix = idPrefix != null ? idPrefix : String.format("%08x-", ThreadLocalRandom.current().nextInt());
        return waitForResults ? submitAndWait(uris, prefix) : publishOnly(uris, prefix);
    }

    private void validate() {
        if (rate != null && !(rate > 0 && Double.isFinite(rate))) {
            throw new ParameterException(spec.commandLine(), "Invalid value " + rate + " for --rate: must be a positive number of requests per second");
        }
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "Invalid value " + timeoutMs + " for --timeout-ms: must be positive");
        }
        if (topK != null && (topK < 1 || topK > InferenceRequest.MAX_TOP_K)) {
            throw new ParameterException(spec.commandLine(), "Invalid value " + topK + " for --top-k: must be 1.." + InferenceRequest.MAX_TOP_K);
        }
        if (deadlineMs != null && deadlineMs <= 0) {
            throw new ParameterException(spec.commandLine(), "Invalid value " + deadlineMs + " for --deadline-ms: must be positive");
        }
    }

    private int publishOnly(List<String> uris, String prefix) throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        Progress progress = progress(uris.size(), "acked");
        AtomicInteger failed = new AtomicInteger();
        long start = System.nanoTime();
        List<CompletableFuture<?>> acks = new ArrayList<>();
        int unsent = 0;
        try (RequestPublisher publisher = new RequestPublisher(topic, kafka.config())) {
            for (int i = 0; i < uris.size(); i++) {
                if (failed.get() > 0) {  // e.g. no broker: do not wait max.block.ms once per remaining request
                    unsent = uris.size() - i;
                    break;
                }
                pace(start, i);
                InferenceRequest request = request(prefix + i, uris.get(i));
                acks.add(publisher.publish(request).whenComplete((metadata, error) -> {
                    if (error != null) {
                        failed.incrementAndGet();
                        synchronized (err) {
                            err.println("\n" + request.id() + " FAILED " + error);
                        }
                    }
                    progress.done();
                }));
                progress.sent();
            }
            publisher.flush();
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        }
        progress.finish();
        err.printf("%d requests published to %s in %.2f s, %d failed, %d not sent after a failure%n",
                uris.size() - failed.get() - unsent, topic, (System.nanoTime() - start) / 1e9, failed.get(), unsent);
        return failed.get() == 0 && unsent == 0 ? 0 : 1;
    }

    private int submitAndWait(List<String> uris, String prefix) throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Progress progress = progress(uris.size(), "results");
        Map<InferenceResult.Status, AtomicInteger> byStatus = new EnumMap<>(InferenceResult.Status.class);
        for (InferenceResult.Status status : InferenceResult.Status.values()) {
            byStatus.put(status, new AtomicInteger());
        }
        AtomicInteger missing = new AtomicInteger();
        AtomicInteger publishFailures = new AtomicInteger();
        int unsent = 0;
        long start = System.nanoTime();
        List<CompletableFuture<?>> futures = new ArrayList<>();
        try (InferenceClient client = InferenceClient.builder(kafka.config()).requestsTopic(topic)
                .resultsTopic(resultsTopic).defaultTimeout(Duration.ofMillis(timeoutMs)).build()) {
            for (int i = 0; i < uris.size(); i++) {
                if (publishFailures.get() > 0) {
                    unsent = uris.size() - i;
                    break;
                }
                pace(start, i);
                InferenceRequest request = request(prefix + i, uris.get(i));
                long sentNanos = System.nanoTime();
                futures.add(client.submit(request).whenComplete((result, error) -> {
                    double latencyMs = (System.nanoTime() - sentNanos) / 1e6;
                    String line;
                    if (error == null) {
                        byStatus.get(result.status()).incrementAndGet();
                        line = String.format("%-20s %-7s %-36s latency=%.1fms", result.id(), result.status(),
                                ResultFormat.outcome(result), latencyMs);
                    } else {
                        missing.incrementAndGet();
                        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                        String status = cause instanceof TimeoutException ? "TIMEOUT" : "FAILED";
                        if (!(cause instanceof TimeoutException)) {
                            publishFailures.incrementAndGet();
                        }
                        line = String.format("%-20s %-7s %s", request.id(), status, cause.getMessage());
                    }
                    synchronized (out) {
                        out.println(line);
                        out.flush();
                    }
                    progress.done();
                }));
                progress.sent();
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        }
        progress.finish();
        int ok = byStatus.get(InferenceResult.Status.OK).get();
        int errors = byStatus.get(InferenceResult.Status.ERROR).get();
        int expired = byStatus.get(InferenceResult.Status.EXPIRED).get();
        err.printf("%d requests in %.2f s: %d OK, %d ERROR, %d EXPIRED, %d without result, %d not sent after a failure%n",
                uris.size(), (System.nanoTime() - start) / 1e9, ok, errors, expired, missing.get(), unsent);
        return ok + errors == uris.size() ? 0 : 1;
    }

    private InferenceRequest request(String id, String uri) {
        InferenceRequest request = InferenceRequest.of(id, uri);
        if (topK != null) {
            request = request.withTopK(topK);
        }
        if (deadlineMs != null) {
            request = request.withDeadlineMs(System.currentTimeMillis() + deadlineMs);
        }
        return request;
    }

    /** Fixed rate without drift: request i leaves at start + i / rate, however late the previous one was. */
    private void pace(long startNanos, int i) throws InterruptedException {
        if (rate == null) {
            return;
        }
        long due = startNanos + (long) (i * 1e9 / rate);
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private Progress progress(int total, String doneLabel) {
        return new Progress(noProgress ? new PrintWriter(java.io.Writer.nullWriter()) : spec.commandLine().getErr(),
                total, doneLabel);
    }
}
