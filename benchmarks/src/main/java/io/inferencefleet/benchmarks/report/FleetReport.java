package io.inferencefleet.benchmarks.report;

import io.inferencefleet.benchmarks.baseline.NaiveWorker;
import io.inferencefleet.benchmarks.worker.OpenLoopSuite;
import io.inferencefleet.benchmarks.worker.WorkerThroughputSuite;
import io.inferencefleet.kafka.local.SingleNodeKafka;
import io.inferencefleet.benchmarks.paddle.BenchModels;
import io.inferencefleet.worker.WorkerMain;
import io.inferencefleet.worker.config.ThreadPlan;
import io.inferencefleet.worker.config.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fleet's benchmark report, one command, one machine, one run: the raw predictor (ceiling), our
 * tuned worker, the naive single-thread worker and the DJL-based peer, each a separate JVM on the
 * same in-process KRaft broker, generated ResNet-50 and shared photos; then a Pareto sweep of the
 * worker's thread settings. Systems alternate within every round (A B C, B C A, ...) because these
 * VMs are noisy; figures are medians over rounds, ratios are given next to absolute numbers.
 *
 * <p>Usage from the repository root: {@code benchmarks/run-report.sh [--name=value ...]}; see
 * {@link #DEFAULTS} for the names. Writes {@code benchmarks/results/fleet-report-<date>/} (report.md
 * and PNG plots) and {@code benchmarks/results/LATEST.md} (the summary table, linking the report).
 */
public final class FleetReport {
    static final Map<String, String> DEFAULTS = defaults();
    /** A rate is sustained when its steady completion rate is >= 97 % of offered, p99 is under this bound and nothing failed. */
    static final double P99_BOUND_MS = 1_000;

    private FleetReport() {}

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("rounds", "2");
        d.put("seconds", "15");                        // per offered rate
        d.put("backlog", "160");                       // requests per backlog measurement
        d.put("rates", "1,3,5,6,7,8,9,10,11,12,13");  // offered rates, ascending; a system's sweep stops at its first failed rate
        d.put("systems", "tuned,naive,djl");
        d.put("engine", "auto");                       // predictor.engine of the ceiling and our worker: auto, paddle, onnxruntime
        d.put("headline", "true");                     // false: only the Pareto sweep
        d.put("pareto", "true");
        d.put("pareto.rounds", "2");
        d.put("pareto.only", "");                      // comma-separated labels (e.g. "auto,P2 M1 D2"): a subset, for trials
        d.put("pareto.backlog", "80");
        d.put("pareto.rate", "5");                     // offered rate at which every configuration's p99 is measured
        d.put("out", "benchmarks/results");
        d.put("command", "benchmarks/run-report.sh");
        return d;
    }

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help")) {
            System.out.println("Usage: benchmarks/run-report.sh [--name=value ...]; names and defaults:");
            DEFAULTS.forEach((k, v) -> System.out.printf("  --%s=%s%n", k, v));
            return;
        }
        Flags flags = Flags.parse(args, List.of(), DEFAULTS);
        int rounds = flags.positiveInt("rounds");
        int seconds = flags.positiveInt("seconds");
        int backlog = flags.positiveInt("backlog");
        double[] rates = Arrays.stream(flags.get("rates").split(",")).mapToDouble(Double::parseDouble).toArray();
        String engine = WorkerConfig.PREDICTOR_ENGINE.parse(flags.get("engine"), "--engine");
        String command = flags.get("command") + Arrays.stream(args).filter(a -> !a.startsWith("--command="))
                .map(a -> " " + a).collect(java.util.stream.Collectors.joining());
        Map<String, String> machine = Machine.describe(command);
        Path images = WorkerThroughputSuite.sharedImagesDir();
        List<Path> photos = WorkerThroughputSuite.sharedPhotos(images);
        Path modelDir = BenchModels.ensure("resnet50").modelFile().getParent();
        // The plan "auto" gives on this machine: the ceiling and the peer get the same threads.
        ThreadPlan auto = WorkerConfig.resolve(null, Map.of(), Map.of()).threadPlan();
        Path logs = Path.of("benchmarks/target/report-logs").toAbsolutePath();
        Results results = new Results(machine, auto, rounds, seconds, backlog, P99_BOUND_MS, flags.get("pareto.rate"));
        List<SystemUnderTest> systems = new ArrayList<>();
        for (String name : flags.get("systems").split(",")) {
            systems.add(system(name.trim(), auto, engine));
        }
        long started = System.nanoTime();
        try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {
            for (int round = 1; round <= (Boolean.parseBoolean(flags.get("headline")) ? rounds : 0); round++) {
                double ceiling = WorkerThroughputSuite.ceiling(modelDir, photos, Duration.ofSeconds(15), auto.predictors(),
                        auto.mathThreads(), auto.pinning() == ThreadPlan.Pinning.CPU, engine);
                results.ceiling.add(ceiling);
                progress(started, "round %d ceiling %.2f img/s", round, ceiling);
                for (int k = 0; k < systems.size(); k++) {
                    SystemUnderTest sut = systems.get((k + round - 1) % systems.size());
                    String tag = sut.name() + "-r" + round;
                    try (Session session = Session.start(kafka, sut, tag, modelDir, images, photos, logs)) {
                        Session.Backlog b = session.backlog(backlog);
                        results.backlog(sut.name()).add(b);
                        progress(started, "round %d %s backlog %.2f img/s (%d errors)", round, sut.name(), b.imagesPerSecond(),
                                b.errors());
                        for (double rate : rates) {
                            OpenLoopSuite.Phase phase = session.openLoop(rate, seconds);
                            results.phases(sut.name(), round).add(phase);
                            progress(started, "round %d %s offered %.1f/s achieved %.2f/s p50 %.0f p99 %.0f ms errors %d"
                                    + " (worker medians: queue %.0f inference %.0f intake-to-result %.0f ms)", round, sut.name(), rate,
                                    phase.achieved(), q(phase, 50), q(phase, 99), phase.errors(), phase.queueMs(),
                                    phase.inferenceMs(), phase.workerTotalMs());
                            if (!results.sustained(phase)) {
                                break;
                            }
                        }
                    }
                }
            }
            if (Boolean.parseBoolean(flags.get("pareto"))) {
                double rate = Double.parseDouble(flags.get("pareto.rate"));
                List<String> only = flags.get("pareto.only").isBlank() ? List.of() : List.of(flags.get("pareto.only").split(","));
                List<Map<String, String>> configs = paretoConfigs(auto).stream()
                        .filter(c -> only.isEmpty() || only.contains(label(c))).toList();
                int paretoRounds = flags.positiveInt("pareto.rounds");
                for (int round = 1; round <= paretoRounds; round++) {
                    List<Map<String, String>> order = new ArrayList<>(configs);
                    if (round % 2 == 0) {
                        java.util.Collections.reverse(order);  // A B C ... then ... C B A: drift cancels in the medians
                    }
                    for (int i = 0; i < order.size(); i++) {
                        Map<String, String> overrides = order.get(i);
                        String label = label(overrides);
                        SystemUnderTest sut = tuned("pareto", overrides, engine);
                        try (Session session = Session.start(kafka, sut, "pareto-r" + round + "-" + i, modelDir, images, photos,
                                logs)) {
                            Session.Backlog b = session.backlog(flags.positiveInt("pareto.backlog"));
                            OpenLoopSuite.Phase phase = session.openLoop(rate, seconds);
                            results.pareto.add(new Results.ParetoPoint(label, round, overrides, b, phase));
                            progress(started, "pareto round %d %s: backlog %.2f img/s, at %.1f/s p50 %.0f p99 %.0f ms", round,
                                    label, b.imagesPerSecond(), rate, q(phase, 50), q(phase, 99));
                        }
                    }
                }
            }
        }
        LocalDate today = LocalDate.now();
        Path out = Path.of(flags.get("out"));
        Path dir = out.resolve("fleet-report-" + today);
        Files.createDirectories(dir);
        String report = new ReportWriter(results, systems, dir).write();
        Files.writeString(dir.resolve("report.md"), report);
        Files.writeString(out.resolve("LATEST.md"), ReportWriter.latest(report, dir.getFileName() + "/report.md"));
        System.out.println(report);
        System.out.println("written to " + dir.resolve("report.md") + " and " + out.resolve("LATEST.md"));
    }

    static SystemUnderTest system(String name, ThreadPlan auto, String engine) {
        return switch (name) {
            case "tuned" -> tuned("tuned", Map.of(), engine);
            case "naive" -> new SystemUnderTest("naive", "the first Java worker a developer writes: one thread polls, reads,"
                    + " decodes (OpenCV) into a heap float[], copies it into Paddle (default: 1 math thread, no pinning),"
                    + " sends the result synchronously and commits after each poll", NaiveWorker.class.getName(),
                    e -> List.of("--bootstrap.servers=" + e.bootstrapServers(), "--input.topic=" + e.inputTopic(),
                            "--results.topic=" + e.resultsTopic(), "--group.id=" + e.groupId(), "--model.dir=" + e.modelDir(),
                            "--file.root=" + e.imagesDir()), Map.of());
            case "djl" -> new SystemUnderTest("djl", "a Kafka worker on DJL 0.27.0's PaddlePaddle engine (Paddle 2.3.2 native"
                    + " jar) with DJL's own image preprocessing: one consumer thread, " + auto.predictors()
                    + " predictor threads with " + auto.mathThreads() + " math thread each, commit after each poll's results are"
                    + " acknowledged; run with the same OpenBLAS settings as ours",
                    "io.inferencefleet.benchmarks.peer.DjlWorker",
                    e -> List.of("--bootstrap.servers=" + e.bootstrapServers(), "--input.topic=" + e.inputTopic(),
                            "--results.topic=" + e.resultsTopic(), "--group.id=" + e.groupId(), "--model.dir=" + e.modelDir(),
                            "--file.root=" + e.imagesDir(), "--threads=" + auto.predictors(),
                            "--math.threads=" + auto.mathThreads()),
                    Map.of("OPENBLAS_CORETYPE", "Haswell", "OPENBLAS_NUM_THREADS", "1", "GLOG_minloglevel", "2"));
            default -> throw new IllegalArgumentException("Invalid value '" + name + "' in --systems: known are tuned, naive, djl");
        };
    }

    /**
     * Our worker ({@code fleet worker}) with the given settings on top of the defaults ("auto" threads),
     * on {@code engine} ({@code predictor.engine}) unless the overrides name one.
     */
    static SystemUnderTest tuned(String name, Map<String, String> overrides, String engine) {
        return new SystemUnderTest(name, "our worker (fleet worker) with default settings: " + (overrides.isEmpty()
                ? "auto threads" : label(overrides)) + "; Kafka → fetch → OpenCV → shm → Paddle (zero-copy) → Kafka",
                WorkerMain.class.getName(), e -> {
                    List<String> a = new ArrayList<>(List.of("--bootstrap.servers=" + e.bootstrapServers(),
                            "--input.topic=" + e.inputTopic(), "--results.topic=" + e.resultsTopic(), "--group.id=" + e.groupId(),
                            "--model.dir=" + e.modelDir(), "--fetch.file.roots=" + e.imagesDir(), "--metrics.port=-1",
                            "--worker.id=" + e.workerId()));
                    if (!overrides.containsKey(WorkerConfig.PREDICTOR_ENGINE.name())) {
                        a.add("--" + WorkerConfig.PREDICTOR_ENGINE.name() + "=" + engine);
                    }
                    overrides.forEach((k, v) -> a.add("--" + k + "=" + v));
                    return a;
                }, Map.of());
    }

    /**
     * Predictor threads x math threads x decoder threads x predictor pinning, bounded by the node's
     * CPUs (at most 2x oversubscribed); "auto" first and last, so drift over the sweep shows.
     */
    static List<Map<String, String>> paretoConfigs(ThreadPlan auto) {
        int cpus = Math.max(1, auto.predictors() * auto.mathThreads());
        List<Map<String, String>> configs = new ArrayList<>();
        configs.add(Map.of());
        for (int predictors = 1; predictors <= cpus; predictors *= 2) {
            for (int math = 1; math <= cpus; math *= 2) {
                for (int decoders : new int[] {predictors, 2 * predictors}) {
                    for (String pinning : List.of("node", "cpu")) {
                        Map<String, String> c = new LinkedHashMap<>();
                        c.put("predictor.threads", Integer.toString(predictors));
                        c.put("math.threads", Integer.toString(math));
                        c.put("decoder.threads", Integer.toString(decoders));
                        c.put("predictor.pinning", pinning);
                        configs.add(c);
                    }
                }
            }
        }
        configs.add(Map.of());
        return configs;
    }

    static String label(Map<String, String> overrides) {
        if (overrides.isEmpty()) {
            return "auto";
        }
        return "P" + overrides.get("predictor.threads") + " M" + overrides.get("math.threads") + " D"
                + overrides.get("decoder.threads") + ("cpu".equals(overrides.get("predictor.pinning")) ? " pin" : "");
    }

    static double q(OpenLoopSuite.Phase phase, double percentile) {
        return phase.latencyMs().getValueAtPercentile(percentile);
    }

    private static void progress(long started, String format, Object... args) {
        System.out.printf("[%5.0f s] " + format + "%n", prepend((System.nanoTime() - started) / 1e9, args));
        System.out.flush();
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
