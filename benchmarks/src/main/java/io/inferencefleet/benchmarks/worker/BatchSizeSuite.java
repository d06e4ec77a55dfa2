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
 * {@code predictor.batch.max} = 1, 2 and 4 (engine {@code auto}), configurations interleaved in every
 * round, medians reported. What {@code predictor.batch.max}'s default should be is read from here.
 *
 * <pre>benchmarks/run-batch-benchmark.sh [rounds=2] [requests=240]</pre>
 */
public final class BatchSizeSuite {
    private static final int[] BATCH_MAX = {1, 2, 4};

    private BatchSizeSuite() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 240;
        Path images = WorkerThroughputSuite.sharedImagesDir();
        Path modelDir = BenchModels.ensure("resnet50").modelFile().getParent();
        List<Path> photos = WorkerThroughputSuite.sharedPhotos(images);
        Map<String, String> machine = io.inferencefleet.benchmarks.report.Machine.describe(
                "benchmarks/run-batch-benchmark.sh " + rounds + " " + requests);
        Map<Integer, List<Double>> imagesPerSecond = new LinkedHashMap<>();
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
