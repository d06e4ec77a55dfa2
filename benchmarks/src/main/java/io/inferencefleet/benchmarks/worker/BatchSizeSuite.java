package io.inferencefleet.benchmarks.worker;

import io.inferencefleet.benchmarks.paddle.BenchModels;
import io.inferencefleet.kafka.local.SingleNodeKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Micro-batching end to end: the worker working off a backlog of ResNet-50 requests with
 * {@code predictor.batch.max} = 1, 2 and 4 (engine {@code auto}), then each under an open-loop load of
 * 0.8 × the round's batch-1 backlog rate (p50/p99: a batch holds each of its results until the whole
 * batch is done), configurations interleaved in every round, medians reported. What
 * {@code predictor.batch.max}'s default should be is read from here.
 *
 * <pre>benchmarks/run-batch-benchmark.sh [rounds=2] [requests=240] [open-loop seconds=20]</pre>
 */
public final class BatchSizeSuite {
    private static final int[] BATCH_MAX = {1, 2, 4};

    private BatchSizeSuite() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 240;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        Path images = WorkerThroughputSuite.sharedImagesDir();
        Path modelDir = BenchModels.ensure("resnet50").modelFile().getParent();
        List<Path> photos = WorkerThroughputSuite.sharedPhotos(images);
        Map<String, String> machine = io.inferencefleet.benchmarks.report.Machine.describe(
                "benchmarks/run-batch-benchmark.sh " + rounds + " " + requests);
        Map<Integer, List<Double>> imagesPerSecond = new LinkedHashMap<>();
        Map<Integer, List<double[]>> openLoop = new LinkedHashMap<>();  // {offered, achieved, p50, p99}
        try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {
            int run = 0;
            for (int round = 1; round <= rounds; round++) {
                for (int b = 0; b < BATCH_MAX.length; b++) {
                    // Forward in odd rounds, backward in even ones: drift does not favour one setting.
                    int batchMax = BATCH_MAX[round % 2 == 1 ? b : BATCH_MAX.length - 1 - b];
                    WorkerThroughputSuite.RunResult r = WorkerThroughputSuite.endToEnd(kafka, modelDir, images, photos,
                            requests, 100 + run++, Map.of("predictor.batch.max", Integer.toString(batchMax)));
                    imagesPerSecond.computeIfAbsent(batchMax, k -> new ArrayList<>()).add(r.imagesPerSecond());
                    System.out.printf("round %d predictor.batch.max=%d: %.2f img/s (%d results)%n", round, batchMax,
                            r.imagesPerSecond(), r.results().size());
                }
                double offered = 0.8 * imagesPerSecond.get(1).get(round - 1);
                for (int b = 0; b < BATCH_MAX.length; b++) {
                    int batchMax = BATCH_MAX[round % 2 == 1 ? BATCH_MAX.length - 1 - b : b];
                    double[] phase = OpenLoopSuite.workerPhase(kafka, modelDir, images, photos, "batch-ol-" + run++,
                            Map.of("predictor.batch.max", Integer.toString(batchMax)), false, offered, seconds);
                    openLoop.computeIfAbsent(batchMax, k -> new ArrayList<>()).add(phase);
                    System.out.printf("round %d predictor.batch.max=%d open loop at %.2f/s: achieved %.2f/s p50 %.0f ms"
                            + " p99 %.0f ms%n", round, batchMax, phase[0], phase[1], phase[2], phase[3]);
                }
            }
        }
        StringBuilder report = new StringBuilder("# Micro-batching, " + LocalDate.now() + "\n\n");
        machine.forEach((k, v) -> report.append("- ").append(k).append(": ").append(v).append('\n'));
        report.append('\n')
                .append("One worker (2 predictor threads x 1 math thread, predictor.engine=auto) working off a backlog"
                        + " of ").append(requests).append(" ResNet-50 requests (shared photos, file://), ")
                .append(rounds).append(" rounds, settings interleaved.\n\n")
                .append("| predictor.batch.max | median img/s | rounds | vs 1 |\n|---:|---:|---|---:|\n");
        double base = median(imagesPerSecond.get(1));
        imagesPerSecond.forEach((batchMax, values) -> report.append(String.format("| %d | %.2f | %s | %.3f |%n",
                batchMax, median(values), values.stream().map(v -> String.format("%.2f", v)).toList(),
                median(values) / base)));
        report.append("\nOpen loop at 0.8 × the round's batch-1 backlog rate for ").append(seconds)
                .append(" s (latency from each request's scheduled send to its result):\n\n")
                .append("| predictor.batch.max | p50 ms (median) | p99 ms (median) | rounds (offered/s: achieved/s, p50/p99) |\n"
                        + "|---:|---:|---:|---|\n");
        openLoop.forEach((batchMax, phases) -> report.append(String.format("| %d | %.0f | %.0f | %s |%n", batchMax,
                median(phases.stream().map(p -> p[2]).toList()), median(phases.stream().map(p -> p[3]).toList()),
                String.join("; ", phases.stream().map(p -> String.format("%.1f: %.1f, %.0f/%.0f", p[0], p[1], p[2], p[3]))
                        .toList()))));
        System.out.println(report);
        Path out = Path.of("benchmarks/results/batch-size-" + LocalDate.now() + ".md");
        if (Files.isDirectory(out.getParent())) {
            Files.writeString(out, report);
            System.out.println("written to " + out);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
