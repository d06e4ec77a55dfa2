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
 * The fleet's benchmark report, one command, one machine, one run: the raw predictor on each engine
 * (ceilings), our tuned worker, the naive single-thread worker and the DJL-based peer, each a separate
 * JVM on the same in-process KRaft broker, generated ResNet-50 and shared photos; then a Pareto sweep
 * of the worker's settings (by default engine x batch x predictors x math threads). Systems alternate
 * within every round (A B C, B C A, ...) because these VMs are noisy; figures are medians over rounds,
 * ratios are given next to absolute numbers.
 *
 * <p>Usage from the repository root: {@code benchmarks/run-report.sh [--name=value ...]}; see
 * {@link #DEFAULTS} for the names ({@code --help} lists them with the run's estimated duration). Writes
 * {@code <out>/fleet-report-<date>/} (report.md and PNG plots) and {@code <out>/LATEST.md} (the summary
 * table, linking the report).
 */
public final class FleetReport {
    static final Map<String, String> DEFAULTS = defaults();
    /** What each flag means, for --help; one line each. */
    static final Map<String, String> HELP = help();
    /** A rate is sustained when its steady completion rate is >= 97 % of offered, p99 is under this bound and nothing failed. */
    static final double P99_BOUND_MS = 1_000;

    private FleetReport() {}

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("rounds", "2");
        d.put("seconds", "15");
        d.put("backlog", "160");
        d.put("rates", "1,3,5,6,7,8,9,10,11,12,14,16,18");
        d.put("systems", "tuned,naive,djl");
        d.put("engine", "auto");
        d.put("ceiling.engines", String.join(",", ParetoGrid.ENGINES));
        d.put("ceiling.seconds", "15");
        d.put("headline", "true");
        d.put("pareto", "true");
        d.put("pareto.dims", ParetoGrid.DEFAULT_DIMS);
        d.put("pareto.rounds", "2");
        d.put("pareto.only", "");
        d.put("pareto.backlog", "60");
        d.put("pareto.rate", "5");
        d.put("pareto.seconds", "10");
        d.put("out", "benchmarks/results");
        d.put("command", "benchmarks/run-report.sh");
        return d;
    }

    private static Map<String, String> help() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("rounds", "headline rounds; every round measures each ceiling and runs every system once, in rotated order");
        h.put("seconds", "seconds per offered rate of the headline latency sweep");
        h.put("backlog", "requests per headline backlog (throughput) measurement");
        h.put("rates", "offered rates, ascending; a system's sweep stops after its first rate not sustained");
        h.put("systems", "tuned (our worker), naive (the naive baseline), djl (the DJL peer); comma-separated");
        h.put("engine", "predictor.engine of the tuned worker (and of sweep settings that do not name one): auto, paddle,"
                + " onnxruntime");
        h.put("ceiling.engines", "engines whose ceiling (raw predictors, no Kafka) is measured every round");
        h.put("ceiling.seconds", "seconds per ceiling measurement");
        h.put("headline", "false: only the Pareto sweep");
        h.put("pareto", "false: no Pareto sweep");
        h.put("pareto.dims", "swept dimensions, of engine, batch, predictors, math, decoders, pinning; the others stay at"
                + " auto. The sweep of earlier reports: --pareto.dims=" + ParetoGrid.THREAD_DIMS);
        h.put("pareto.rounds", "sweep rounds, in order then in reverse order (auto first and last in each)");
        h.put("pareto.only", "comma-separated labels to run, e.g. \"auto,ort B4 P2 M1\" (a subset, for trials)");
        h.put("pareto.backlog", "requests per sweep backlog measurement");
        h.put("pareto.rate", "offered rate at which every sweep setting's p50/p99 is measured");
        h.put("pareto.seconds", "seconds at pareto.rate per sweep setting (each 5 s more adds ~3 min to the default run)");
        h.put("out", "output directory: <out>/fleet-report-<date>/ and <out>/LATEST.md");
        h.put("command", "how the report names the command that ran it");
        return h;
    }

    public static void main(String[] args) throws Exception {
        boolean help = Arrays.asList(args).contains("--help");
        Flags flags = Flags.parse(Arrays.stream(args).filter(a -> !a.equals("--help")).toArray(String[]::new), List.of(),
                DEFAULTS);
        // The plan "auto" gives on this machine: the ceiling and the peer get the same threads.
        WorkerConfig defaults = WorkerConfig.resolve(null, Map.of(), Map.of());
        ThreadPlan auto = defaults.threadPlan();
        ParetoGrid grid = ParetoGrid.parse(flags.get("pareto.dims"), auto);
        List<Map<String, String>> paretoSettings = paretoSettings(flags, grid);
        if (help) {
            System.out.println("Usage: benchmarks/run-report.sh [--name=value ...]; names, defaults and meaning:");
            DEFAULTS.forEach((k, v) -> System.out.printf("  --%s=%s%n      %s%n", k, v, HELP.get(k)));
            System.out.printf("%nWith these flags: %d sweep settings x %s rounds (%s); estimated duration %.0f min on a"
                    + " 2-vCPU VM%n(%s).%n", paretoSettings.size(), flags.get("pareto.rounds"),
                    String.join(", ", paretoSettings.stream().map(ParetoGrid::label).toList()), estimateSeconds(flags,
                    paretoSettings.size()) / 60, ESTIMATE_ASSUMPTIONS);
            return;
        }
        int rounds = flags.positiveInt("rounds");
        int seconds = flags.positiveInt("seconds");
        int backlog = flags.positiveInt("backlog");
        double[] rates = rates(flags.get("rates"));
        String engine = WorkerConfig.PREDICTOR_ENGINE.parse(flags.get("engine"), "--engine");
        List<String> ceilingEngines = ceilingEngines(flags.get("ceiling.engines"));
        Duration ceilingTime = Duration.ofSeconds(flags.positiveInt("ceiling.seconds"));
        String command = flags.get("command") + Arrays.stream(args).filter(a -> !a.startsWith("--command="))
                .map(a -> " " + a).collect(java.util.stream.Collectors.joining());
        Map<String, String> machine = Machine.describe(command);
        Path images = WorkerThroughputSuite.sharedImagesDir();
        List<Path> photos = WorkerThroughputSuite.sharedPhotos(images);
        Path modelDir = BenchModels.ensure("resnet50").modelFile().getParent();
        Path logs = Path.of("benchmarks/target/report-logs").toAbsolutePath();
        Results results = new Results(machine, Machine.Cpu.read(), auto, defaults.get(WorkerConfig.BATCH_MAX), grid, rounds,
                seconds, flags.positiveInt("pareto.seconds"), backlog, P99_BOUND_MS, flags.get("pareto.rate"));
        List<SystemUnderTest> systems = new ArrayList<>();
        for (String name : flags.get("systems").split(",")) {
            systems.add(system(name.trim(), auto, engine));
        }
        long started = System.nanoTime();
        progress(started, "estimated duration %.0f min", estimateSeconds(flags, paretoSettings.size()) / 60);
        try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {
            for (int round = 1; round <= (Boolean.parseBoolean(flags.get("headline")) ? rounds : 0); round++) {
                for (int k = 0; k < ceilingEngines.size(); k++) {
                    String e = ceilingEngines.get((k + round - 1) % ceilingEngines.size());
                    double ceiling = WorkerThroughputSuite.ceiling(modelDir, photos, ceilingTime, auto.predictors(),
                            auto.mathThreads(), auto.pinning() == ThreadPlan.Pinning.CPU, e);
                    results.ceiling(e).add(ceiling);
                    progress(started, "round %d ceiling %s %.2f img/s", round, e, ceiling);
                }
                for (int k = 0; k < systems.size(); k++) {
                    SystemUnderTest sut = systems.get((k + round - 1) % systems.size());
                    String tag = sut.name() + "-r" + round;
                    try (Session session = Session.start(kafka, sut, tag, modelDir, images, photos, logs)) {
                        results.engineRan(sut.name(), session.engine());
                        Session.Backlog b = session.backlog(backlog);
                        results.backlog(sut.name()).add(b);
                        progress(started, "round %d %s (engine %s) backlog %.2f img/s (%d errors)", round, sut.name(),
                                session.engine(), b.imagesPerSecond(), b.errors());
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
                int paretoSeconds = flags.positiveInt("pareto.seconds");
                int paretoRounds = flags.positiveInt("pareto.rounds");
                for (int round = 1; round <= paretoRounds; round++) {
                    List<Map<String, String>> order = new ArrayList<>(paretoSettings);
                    if (round % 2 == 0) {
                        java.util.Collections.reverse(order);  // A B C ... then ... C B A: drift cancels in the medians
                    }
                    for (int i = 0; i < order.size(); i++) {
                        Map<String, String> overrides = order.get(i);
                        String label = ParetoGrid.label(overrides);
                        SystemUnderTest sut = tuned("pareto", overrides, engine);
                        try (Session session = Session.start(kafka, sut, "pareto-r" + round + "-" + i, modelDir, images, photos,
                                logs)) {
                            Session.Backlog b = session.backlog(flags.positiveInt("pareto.backlog"));
                            OpenLoopSuite.Phase phase = session.openLoop(rate, paretoSeconds);
                            results.pareto.add(new Results.ParetoPoint(label, round, overrides, session.engine(), b, phase));
                            progress(started, "pareto round %d %s (engine %s): backlog %.2f img/s, at %.1f/s p50 %.0f p99 %.0f ms",
                                    round, label, session.engine(), b.imagesPerSecond(), rate, q(phase, 50), q(phase, 99));
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
        progress(started, "done");
        System.out.println("written to " + dir.resolve("report.md") + " and " + out.resolve("LATEST.md"));
    }

    static double[] rates(String value) {
        try {
            double[] rates = Arrays.stream(value.split(",")).mapToDouble(r -> Double.parseDouble(r.trim())).toArray();
            for (int i = 0; i < rates.length; i++) {
                if (rates[i] <= 0 || (i > 0 && rates[i] <= rates[i - 1])) {
                    throw new IllegalArgumentException("Invalid value '" + value + "' for --rates: must be positive and ascending");
                }
            }
            return rates;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value '" + value + "' for --rates: not a comma-separated list of numbers");
        }
    }

    static List<String> ceilingEngines(String value) {
        List<String> engines = value.isBlank() ? List.of() : Arrays.stream(value.split(",")).map(String::trim).toList();
        for (String e : engines) {
            if (!ParetoGrid.ENGINES.contains(e)) {
                throw new IllegalArgumentException("Invalid value '" + value + "' for --ceiling.engines: '" + e + "' is not one of "
                        + ParetoGrid.ENGINES);
            }
        }
        return engines;
    }

    /** The sweep's settings, narrowed to {@code --pareto.only}'s labels (each must be one of the grid's). */
    static List<Map<String, String>> paretoSettings(Flags flags, ParetoGrid grid) {
        List<Map<String, String>> all = grid.settings();
        if (flags.get("pareto.only").isBlank()) {
            return all;
        }
        List<String> only = Arrays.stream(flags.get("pareto.only").split(",")).map(String::trim).toList();
        List<String> known = all.stream().map(ParetoGrid::label).distinct().toList();
        for (String label : only) {
            if (!known.contains(label)) {
                throw new IllegalArgumentException("Invalid value '" + flags.get("pareto.only") + "' for --pareto.only: '" + label
                        + "' is not a setting of --pareto.dims=" + flags.get("pareto.dims") + "; known: " + known);
            }
        }
        return all.stream().filter(c -> only.contains(ParetoGrid.label(c))).toList();
    }

    // The duration estimate's assumptions, from a smoke run on a 2-vCPU VM (2026-12-02, another job running):
    // a sweep session took 23 s (auto: 29 s) for a 60-request backlog and 10 s at 5/s, i.e. 9.5-14 s of
    // JVM start, model load (auto: both engines timed), warm-up and stop; a 15 s ceiling took 17-19 s.
    private static final double SESSION_START_S = 12;
    private static final double CEILING_LOAD_S = 3;
    private static final double TUNED_IMG_S = 16;
    private static final double NAIVE_IMG_S = 6;
    private static final double PEER_IMG_S = 10;
    private static final double NAIVE_MAX_RATE = 6;
    private static final double PEER_MAX_RATE = 9;
    private static final double SWEEP_IMG_S = 12;
    static final String ESTIMATE_ASSUMPTIONS = String.format("assumed: %.0f s to start, warm up and stop each worker JVM;"
            + " backlogs at tuned %.0f, naive %.0f, DJL %.0f, sweep %.0f img/s; naive sustains up to %.0f/s, DJL up to %.0f/s,"
            + " tuned every rate", SESSION_START_S, TUNED_IMG_S, NAIVE_IMG_S, PEER_IMG_S, SWEEP_IMG_S, NAIVE_MAX_RATE, PEER_MAX_RATE);

    /** A rough duration of a run with these flags, in seconds, for --help and the run's first line. */
    static double estimateSeconds(Flags flags, int paretoSettings) {
        double total = 0;
        if (Boolean.parseBoolean(flags.get("headline"))) {
            int rounds = flags.positiveInt("rounds");
            double perRate = flags.positiveInt("seconds") + 1;
            double[] rates = rates(flags.get("rates"));
            int backlog = flags.positiveInt("backlog");
            double round = ceilingEngines(flags.get("ceiling.engines")).size() * (flags.positiveInt("ceiling.seconds")
                    + CEILING_LOAD_S);
            for (String system : flags.get("systems").split(",")) {
                double max = switch (system.trim()) {
                    case "naive" -> NAIVE_MAX_RATE;
                    case "djl" -> PEER_MAX_RATE;
                    default -> Double.MAX_VALUE;
                };
                double speed = switch (system.trim()) {
                    case "naive" -> NAIVE_IMG_S;
                    case "djl" -> PEER_IMG_S;
                    default -> TUNED_IMG_S;
                };
                // every sustained rate, plus the first one that is not
                long runs = Math.min(rates.length, Arrays.stream(rates).filter(r -> r <= max).count() + 1);
                round += SESSION_START_S + backlog / speed + runs * perRate;
            }
            total += rounds * round;
        }
        if (Boolean.parseBoolean(flags.get("pareto"))) {
            total += flags.positiveInt("pareto.rounds") * paretoSettings * (SESSION_START_S
                    + flags.positiveInt("pareto.backlog") / SWEEP_IMG_S + flags.positiveInt("pareto.seconds") + 1);
        }
        return total;
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
        return new SystemUnderTest(name, "our worker (fleet worker) with default settings" + (overrides.isEmpty()
                ? " (predictor.engine=" + engine + ", auto threads)" : " and " + ParetoGrid.label(overrides))
                + "; Kafka → fetch → OpenCV → shm → predictor (zero-copy at batch 1) → Kafka",
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
