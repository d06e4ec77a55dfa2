package io.inferencefleet.benchmarks.worker;

import io.inferencefleet.benchmarks.paddle.BenchModels;
import io.inferencefleet.kafka.local.SingleNodeKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code delivery.guarantee=exactly-once} costs against at-least-once (issue 13), in one run on
 * one broker, the two interleaved (A B, then B A, ...) because these VMs are noisy:
 * <ul>
 *   <li><b>backlog throughput</b>: {@link WorkerThroughputSuite#endToEnd} with each guarantee;</li>
 *   <li><b>latency at 80 % of the maximum</b>: an open-loop phase ({@link OpenLoopSuite#run}) at 0.8 ×
 *       the round's at-least-once backlog rate, for both guarantees; exactly-once read by a
 *       {@code read_committed} client (what its users see: a result counts once its transaction commits).</li>
 * </ul>
 * Goals: throughput loss ≤ 5 %; p99 no more than 1.2 × {@code transaction.interval.ms} above at-least-once's.
 * Usage from the repository root: {@code benchmarks/run-guarantee-cost.sh [rounds=2] [requests=240]
 * [seconds=20] [model=resnet50]}.
 */
public final class GuaranteeCostSuite {
    private static final List<String> GUARANTEES = List.of("at-least-once", "exactly-once");

    private GuaranteeCostSuite() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 240;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        String model = args.length > 3 ? args[3] : "resnet50";
        Path images = WorkerThroughputSuite.sharedImagesDir();
        List<Path> photos = WorkerThroughputSuite.sharedPhotos(images);
        Path modelDir = BenchModels.ensure(model).modelFile().getParent();
        Map<String, List<Double>> backlog = new LinkedHashMap<>();
        Map<String, List<double[]>> latency = new LinkedHashMap<>();  // {offered, achieved, p50, p99}
        GUARANTEES.forEach(g -> {
            backlog.put(g, new ArrayList<>());
            latency.put(g, new ArrayList<>());
        });
        int run = 0;
        try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {
            for (int round = 1; round <= rounds; round++) {
                List<String> order = round % 2 == 1 ? GUARANTEES : List.of(GUARANTEES.get(1), GUARANTEES.get(0));
                Map<String, Double> rates = new HashMap<>();
                for (String g : order) {
                    double rate = WorkerThroughputSuite.endToEnd(kafka, modelDir, images, photos, requests, ++run,
                            Map.of("delivery.guarantee", g)).imagesPerSecond();
                    backlog.get(g).add(rate);
                    rates.put(g, rate);
                    System.out.printf("round %d %s backlog: %.2f img/s%n", round, g, rate);
                }
                double offered = 0.8 * rates.get("at-least-once");
                for (String g : order) {
                    double[] phase = openLoop(kafka, modelDir, images, photos, g, offered, seconds, ++run);
                    latency.get(g).add(phase);
                    System.out.printf("round %d %s open loop at %.2f/s: achieved %.2f/s p50 %.0f ms p99 %.0f ms%n", round, g,
                            phase[0], phase[1], phase[2], phase[3]);
                }
            }
        }
        String report = report(rounds, requests, seconds, model, backlog, latency);
        System.out.println(report);
        Path out = Path.of("benchmarks/results/guarantee-cost-" + LocalDate.now() + ".md");
        if (Files.isDirectory(out.getParent())) {
            Files.writeString(out, report);
            System.out.println("written to " + out);
        }
    }

    private static double[] openLoop(SingleNodeKafka kafka, Path modelDir, Path images, List<Path> photos, String guarantee,
                                     double rate, int seconds, int run) throws Exception {
        return OpenLoopSuite.workerPhase(kafka, modelDir, images, photos, "gc-" + run,
                Map.of("delivery.guarantee", guarantee), guarantee.equals("exactly-once"), rate, seconds);
    }

    private static String report(int rounds, int requests, int seconds, String model, Map<String, List<Double>> backlog,
                                 Map<String, List<double[]>> latency) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Exactly-once vs at-least-once, ").append(LocalDate.now()).append("\n\n");
        sb.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, ")
                .append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.version"))
                .append(". Model: generated ").append(model).append("; one worker (2 predictor threads) on an in-process")
                .append(" broker; ").append(rounds).append(" rounds, guarantees interleaved; backlog of ").append(requests)
                .append(" requests; open loop for ").append(seconds).append(" s at 0.8 × the round's at-least-once backlog")
                .append(" rate; exactly-once read read_committed; transaction.interval.ms 100 (default).\n\n");
        sb.append("| guarantee | backlog img/s (median) | rounds | p50 ms (median) | p99 ms (median) | rounds (offered/s: p50/p99) |\n");
        sb.append("|---|---:|---|---:|---:|---|\n");
        Map<String, double[]> medians = new HashMap<>();
        for (String g : GUARANTEES) {
            double b = median(backlog.get(g));
            double p50 = median(latency.get(g).stream().map(x -> x[2]).toList());
            double p99 = median(latency.get(g).stream().map(x -> x[3]).toList());
            medians.put(g, new double[] {b, p50, p99});
            sb.append(String.format("| %s | %.2f | %s | %.0f | %.0f | %s |%n", g, b,
                    String.join(", ", backlog.get(g).stream().map(v -> String.format("%.2f", v)).toList()), p50, p99,
                    String.join(", ", latency.get(g).stream().map(x -> String.format("%.1f: %.0f/%.0f", x[0], x[2], x[3]))
                            .toList())));
        }
        double[] alo = medians.get("at-least-once");
        double[] eos = medians.get("exactly-once");
        sb.append(String.format("%nThroughput loss: **%.1f %%** (goal ≤ 5 %%). p99 increase: **%.0f ms** (goal ≤ 1.2 ×"
                + " transaction.interval.ms = 120 ms); p50 increase %.0f ms.%n", 100 * (1 - eos[0] / alo[0]), eos[2] - alo[2],
                eos[1] - alo[1]));
        return sb.toString();
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
