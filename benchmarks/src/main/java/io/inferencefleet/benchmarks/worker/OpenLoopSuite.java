package io.inferencefleet.benchmarks.worker;

import io.inferencefleet.client.InferenceClient;
import io.inferencefleet.kafka.local.SingleNodeKafka;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.benchmarks.paddle.BenchModels;
import io.inferencefleet.worker.Worker;
import io.inferencefleet.worker.config.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * End-to-end latency under a constant offered rate (open loop, like wrk2): request i is scheduled
 * at {@code start + i / rate} and its latency is measured from that scheduled time to its result's
 * arrival, so a stalled system is charged for every request it delayed (no coordinated omission).
 * One worker (generated ResNet-50, 2 predictors x 1 math thread) on an in-process broker; offered
 * rates are swept upwards, and the highest rate whose results keep up (completion rate in the
 * steady part of the window >= 97 % of offered) with p99 under {@link #P99_BOUND_MS} is the maximum
 * sustainable throughput.
 * Usage from the repository root: {@code benchmarks/run-open-loop.sh [seconds per rate] [rates...]}.
 */
public final class OpenLoopSuite {
    static final double P99_BOUND_MS = 2_000;

    private OpenLoopSuite() {}

    /** One offered rate's outcome; the stage medians come from the results' own timings. */
    public record Phase(double offered, double achieved, Histogram latencyMs, int errors, double queueMs, double inferenceMs,
                 double workerTotalMs) {}

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        double[] rates = args.length > 1
                ? Arrays.stream(args, 1, args.length).mapToDouble(Double::parseDouble).toArray()
                : new double[] {1.4, 4, 7, 9, 10, 11, 12, 13};
        Path images = WorkerThroughputSuite.sharedImagesDir();
        List<Path> photos = WorkerThroughputSuite.sharedPhotos(images);
        Path modelDir = BenchModels.ensure("resnet50").modelFile().getParent();
        List<Phase> phases = new ArrayList<>();
        try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {
            kafka.createTopic("ol-in", 2);
            kafka.createTopic("ol-out", 1);
            Map<String, String> flags = new HashMap<>();
            flags.put("bootstrap.servers", kafka.bootstrapServers());
            flags.put("input.topic", "ol-in");
            flags.put("results.topic", "ol-out");
            flags.put("group.id", "open-loop");
            flags.put("model.dir", modelDir.toString());
            flags.put("fetch.file.roots", images.toString());
            flags.put("predictor.threads", "2");
            flags.put("metrics.port", "-1");
            flags.put("worker.id", "open-loop");
            try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags));
                 InferenceClient client = InferenceClient.builder(Map.of("bootstrap.servers", kafka.bootstrapServers()))
                         .requestsTopic("ol-in").resultsTopic("ol-out").defaultTimeout(Duration.ofMinutes(5)).build()) {
                run(client, photos, 3, 4);  // warm-up: JIT, Paddle's first runs, consumer assignment
                for (double rate : rates) {
                    Phase phase = run(client, photos, rate, seconds);
                    phases.add(phase);
                    System.out.printf("offered %.1f/s achieved %.2f/s p50 %.0f ms p99 %.0f ms errors %d; worker p50 queue %.0f"
                            + " inference %.0f total %.0f ms%n", phase.offered, phase.achieved, q(phase, 50), q(phase, 99),
                            phase.errors, phase.queueMs, phase.inferenceMs, phase.workerTotalMs);
                }
            }
        }
        String report = report(seconds, phases);
        System.out.println(report);
        Path out = Path.of("benchmarks/results/open-loop-" + LocalDate.now() + ".md");
        if (Files.isDirectory(out.getParent())) {
            Files.writeString(out, report);
            System.out.println("written to " + out);
        }
    }

    /**
     * A fresh worker (generated model in {@code modelDir}, 2 predictor threads, {@code settings} on top)
     * on new topics named after {@code tag}, warmed up, then offered {@code rate} requests/s for
     * {@code seconds}: {offered, achieved, p50 ms, p99 ms}. Results are read read_committed if asked.
     */
    static double[] workerPhase(SingleNodeKafka kafka, Path modelDir, Path images, List<Path> photos, String tag,
                                Map<String, String> settings, boolean readCommitted, double rate, int seconds) throws Exception {
        String in = tag + "-in";
        String out = tag + "-out";
        kafka.createTopic(in, 2);
        kafka.createTopic(out, 1);
        Map<String, String> flags = new HashMap<>();
        flags.put("bootstrap.servers", kafka.bootstrapServers());
        flags.put("input.topic", in);
        flags.put("results.topic", out);
        flags.put("group.id", tag);
        flags.put("model.dir", modelDir.toString());
        flags.put("fetch.file.roots", images.toString());
        flags.put("predictor.threads", "2");
        flags.put("metrics.port", "-1");
        flags.put("worker.id", tag);
        flags.putAll(settings);
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags));
             InferenceClient client = InferenceClient.builder(Map.of("bootstrap.servers", kafka.bootstrapServers()))
                     .requestsTopic(in).resultsTopic(out).readCommitted(readCommitted)
                     .defaultTimeout(Duration.ofMinutes(5)).build()) {
            run(client, photos, 3, 3);  // warm-up: JIT, Paddle's first runs, assignment
            Phase phase = run(client, photos, rate, seconds);
            return new double[] {rate, phase.achieved(), q(phase, 50), q(phase, 99)};
        }
    }

    /** Offers {@code rate} requests/s for {@code seconds}; waits for every result (or its timeout). */
    public static Phase run(InferenceClient client, List<Path> photos, double rate, int seconds) throws Exception {
        int count = (int) Math.round(rate * seconds);
        Histogram latency = new Histogram(TimeUnit.MINUTES.toMillis(10), 3);
        List<CompletableFuture<InferenceResult>> futures = new ArrayList<>(count);
        List<Long> completedNs = new ArrayList<>(count);
        long intervalNs = (long) (1e9 / rate);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        String run = Long.toString(System.nanoTime(), 36);
        for (int i = 0; i < count; i++) {
            long scheduled = start + i * intervalNs;
            long wait = scheduled - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            InferenceRequest request = InferenceRequest.of(run + "-" + i, photos.get(i % photos.size()).toUri().toString());
            futures.add(client.submit(request).whenComplete((result, error) -> {
                long now = System.nanoTime();
                synchronized (latency) {
                    completedNs.add(now);
                    latency.recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMillis(now - scheduled)));
                }
            }));
        }
        int errors = 0;
        List<InferenceResult.Timings> timings = new ArrayList<>();
        for (CompletableFuture<InferenceResult> future : futures) {
            try {
                InferenceResult result = future.get();
                if (result.status() != InferenceResult.Status.OK) {
                    errors++;
                } else {
                    timings.add(result.timingsMs());
                }
            } catch (Exception e) {
                errors++;
            }
        }
        // Completion rate in the steady part of the offer window (after a quarter of it): equal to the
        // offered rate when the worker keeps up, lower when a backlog builds.
        long from = start + (long) (0.25 * seconds * 1e9);
        long to = start + (long) (seconds * 1e9);
        long completedInWindow = completedNs.stream().filter(t -> t >= from && t < to).count();
        return new Phase(rate, completedInWindow / ((to - from) / 1e9), latency, errors,
                median(timings.stream().map(InferenceResult.Timings::queue)),
                median(timings.stream().map(InferenceResult.Timings::inference)),
                median(timings.stream().map(InferenceResult.Timings::total)));
    }

    /** Median of the stage times a worker reported (a worker may leave a stage out: null). */
    private static double median(java.util.stream.Stream<Double> stageMs) {
        return median(stageMs.filter(java.util.Objects::nonNull).mapToDouble(Double::doubleValue).toArray());
    }

    private static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(values);
        return values[values.length / 2];
    }

    static double q(Phase phase, double percentile) {
        return phase.latencyMs.getValueAtPercentile(percentile);
    }

    static String report(int seconds, List<Phase> phases) {
        StringBuilder sb = new StringBuilder("# Open-loop latency sweep, " + LocalDate.now() + "\n\n");
        sb.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, ")
                .append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.version"))
                .append(". One worker (generated ResNet-50, 2 predictor threads x 1 math thread) on an in-process KRaft"
                        + " broker; requests for the shared photos at a constant rate for ").append(seconds)
                .append(" s per rate; latency from each request's scheduled send time to its result (HdrHistogram, ms).\n\n");
        sb.append("| offered /s | achieved /s | p50 | p90 | p99 | p99.9 | max | errors | worker p50: shm queue | inference | intake→result |\n"
                + "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        Phase best = null;
        for (Phase p : phases) {
            sb.append(String.format("| %.1f | %.2f | %.0f | %.0f | %.0f | %.0f | %d | %d | %.0f | %.0f | %.0f |%n", p.offered,
                    p.achieved, q(p, 50), q(p, 90), q(p, 99), q(p, 99.9), p.latencyMs.getMaxValue(), p.errors, p.queueMs,
                    p.inferenceMs, p.workerTotalMs));
            if (p.achieved >= 0.97 * p.offered && q(p, 99) <= P99_BOUND_MS && p.errors == 0) {
                best = p;
            }
        }
        if (best != null) {
            double max = best.offered;
            Phase low = nearest(phases, 0.1 * max);
            Phase high = nearest(phases, 0.8 * max);
            sb.append(String.format("%nMaximum sustainable rate (achieved >= 97%% of offered, p99 <= %.0f ms): **%.1f/s**.%n",
                    P99_BOUND_MS, max));
            sb.append(String.format("p99 near 80%% of it (%.1f/s) / p50 near 10%% of it (%.1f/s) = %.0f / %.0f = **%.2f**"
                    + " (target <= 1.5).%n", high.offered, low.offered, q(high, 99), q(low, 50), q(high, 99) / q(low, 50)));
        }
        return sb.toString();
    }

    private static Phase nearest(List<Phase> phases, double rate) {
        return phases.stream().min((a, b) -> Double.compare(Math.abs(a.offered - rate), Math.abs(b.offered - rate))).orElseThrow();
    }
}
