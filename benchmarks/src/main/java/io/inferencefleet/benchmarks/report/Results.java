package io.inferencefleet.benchmarks.report;

import io.inferencefleet.benchmarks.worker.OpenLoopSuite;
import io.inferencefleet.worker.config.ThreadPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;

/** Everything one report run measured, and the few derived figures the report is about. */
final class Results {
    /**
     * One run of one setting in the Pareto sweep: backlog throughput and latency at the sweep's offered
     * rate; {@code engine} is the one the worker reported running (null if it did not say).
     */
    record ParetoPoint(String label, int round, Map<String, String> overrides, String engine, Session.Backlog backlog,
                       OpenLoopSuite.Phase phase) {
        double p99() {
            return phase.latencyMs().getValueAtPercentile(99);
        }
    }

    /**
     * A setting of the sweep with the medians of its runs; {@code engines} the distinct engines its runs
     * reported, {@code sustained} whether every run kept up with the sweep's rate (see {@link #sustained}).
     */
    record ParetoSetting(String label, Map<String, String> overrides, List<String> engines, double imagesPerSecond,
                         double p50, double p99, boolean sustained, List<ParetoPoint> runs) {
        boolean isAuto() {
            return overrides.isEmpty();
        }
    }

    /** A row of the summary: what, the measured figure with its parts, the goal, and whether it is met. */
    record Goal(String target, String measured, String goal, boolean met) {}

    /** Points within this fraction of the best throughput count as equally fast (run-to-run noise is about this). */
    static final double THROUGHPUT_TIE = 0.03;
    /** ResNet-50 (v1.5, 224x224) costs about 4.1 G multiply-adds per image: 8.2 GFLOP. */
    static final double RESNET50_GFLOP_PER_IMAGE = 8.2;

    // Issue 12's goals, one home each.
    static final double GOAL_EFFICIENCY = 0.95;
    static final double GOAL_SHARE_OF_PEAK = 0.70;
    static final double GOAL_QPS_GAIN_VS_NAIVE = 2.00;      // +200 %
    static final double GOAL_P99_CHANGE_VS_NAIVE = -0.60;   // -60 %
    static final double GOAL_THROUGHPUT_VS_PEER = 1.6;
    static final double GOAL_P99_VS_PEER = 0.5;

    final Map<String, String> machine;
    final Machine.Cpu cpu;
    final ThreadPlan auto;
    /** {@code predictor.batch.max} of the worker's defaults. */
    final int autoBatchMax;
    final ParetoGrid grid;
    final int rounds;
    final int seconds;
    final int paretoSeconds;
    final int backlogRequests;
    final double p99BoundMs;
    final String paretoRate;
    /** Engine → the ceiling of every round that measured it, images/s. */
    final Map<String, List<Double>> ceilings = new LinkedHashMap<>();
    final List<ParetoPoint> pareto = new ArrayList<>();
    private final Map<String, List<Session.Backlog>> backlogs = new LinkedHashMap<>();
    private final Map<String, List<String>> engines = new LinkedHashMap<>();
    private final Map<String, Map<Integer, List<OpenLoopSuite.Phase>>> phases = new LinkedHashMap<>();

    Results(Map<String, String> machine, Machine.Cpu cpu, ThreadPlan auto, int autoBatchMax, ParetoGrid grid, int rounds,
            int seconds, int paretoSeconds, int backlogRequests, double p99BoundMs, String paretoRate) {
        this.machine = machine;
        this.cpu = cpu;
        this.auto = auto;
        this.autoBatchMax = autoBatchMax;
        this.grid = grid;
        this.rounds = rounds;
        this.seconds = seconds;
        this.paretoSeconds = paretoSeconds;
        this.backlogRequests = backlogRequests;
        this.p99BoundMs = p99BoundMs;
        this.paretoRate = paretoRate;
    }

    List<Double> ceiling(String engine) {
        return ceilings.computeIfAbsent(engine, k -> new ArrayList<>());
    }

    /** Median ceiling of {@code engine} over rounds; NaN if none was measured. */
    double ceilingMedian(String engine) {
        return median(ceilings.getOrDefault(engine, List.of()).stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Records the engine a session of {@code system} reported running (null: it did not say). */
    void engineRan(String system, String engine) {
        engines.computeIfAbsent(system, k -> new ArrayList<>()).add(engine);
    }

    /** The engine every session of {@code system} reported, "a/b" if they differ, null if none reported one. */
    String engineOf(String system) {
        List<String> distinct = engines.getOrDefault(system, List.of()).stream().filter(Objects::nonNull).distinct().toList();
        return distinct.isEmpty() ? null : String.join("/", distinct);
    }

    /**
     * The engine whose ceiling the tuned worker is compared with: the one it reported running, else
     * (not reported, or mixed across rounds) the engine with the higher ceiling, which is what auto means to pick.
     */
    String tunedEngine() {
        String ran = engineOf("tuned");
        if (ran != null && ceilings.containsKey(ran)) {
            return ran;
        }
        return ceilings.keySet().stream().max(Comparator.comparingDouble(this::ceilingMedian)).orElse(null);
    }

    /** CPUs the ceiling's predictors keep busy: predictors x math threads, at most the CPUs there are. */
    int coresUsed() {
        return Math.max(1, Math.min(auto.predictors() * auto.mathThreads(), cpu.cpus()));
    }

    /** ResNet-50 images/s as GFLOP/s per core used. */
    static double gflopsPerCore(double imagesPerSecond, int cores) {
        return imagesPerSecond * RESNET50_GFLOP_PER_IMAGE / cores;
    }

    /** {@code engine}'s ceiling as a fraction of the CPU's float32 FMA peak per core. */
    double shareOfPeak(String engine) {
        return gflopsPerCore(ceilingMedian(engine), coresUsed()) / cpu.peakGflopsPerCore();
    }

    List<Session.Backlog> backlog(String system) {
        return backlogs.computeIfAbsent(system, k -> new ArrayList<>());
    }

    List<OpenLoopSuite.Phase> phases(String system, int round) {
        return phases.computeIfAbsent(system, k -> new TreeMap<>()).computeIfAbsent(round, k -> new ArrayList<>());
    }

    /** Results kept up with the offered rate (>= 97 % in the steady window), nothing failed, p99 within the bound. */
    boolean sustained(OpenLoopSuite.Phase p) {
        return p.errors() == 0 && p.achieved() >= 0.97 * p.offered() && p.latencyMs().getValueAtPercentile(99) <= p99BoundMs;
    }

    double backlogMedian(String system) {
        return median(backlog(system).stream().mapToDouble(Session.Backlog::imagesPerSecond).toArray());
    }

    /** Per round, the highest rate of the ascending sweep before the first failed one (0 if the first failed). */
    List<Double> maxSustained(String system) {
        List<Double> perRound = new ArrayList<>();
        for (List<OpenLoopSuite.Phase> sweep : phases.getOrDefault(system, Map.of()).values()) {
            double max = 0;
            for (OpenLoopSuite.Phase p : sweep) {
                if (!sustained(p)) {
                    break;
                }
                max = p.offered();
            }
            perRound.add(max);
        }
        return perRound;
    }

    /** The phases at {@code rate} of every round. */
    List<OpenLoopSuite.Phase> atRate(String system, double rate) {
        List<OpenLoopSuite.Phase> found = new ArrayList<>();
        for (List<OpenLoopSuite.Phase> sweep : phases.getOrDefault(system, Map.of()).values()) {
            sweep.stream().filter(p -> p.offered() == rate).forEach(found::add);
        }
        return found;
    }

    /** Every offered rate any round of {@code system} ran, ascending. */
    double[] rates(String system) {
        return phases.getOrDefault(system, Map.of()).values().stream().flatMap(List::stream)
                .mapToDouble(OpenLoopSuite.Phase::offered).distinct().sorted().toArray();
    }

    /** Median over rounds of a percentile at one rate; empty when no round ran that rate. */
    OptionalDouble percentile(String system, double rate, double percentile) {
        List<OpenLoopSuite.Phase> at = atRate(system, rate);
        if (at.isEmpty()) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(median(at.stream().mapToDouble(p -> p.latencyMs().getValueAtPercentile(percentile)).toArray()));
    }

    OptionalDouble achieved(String system, double rate) {
        List<OpenLoopSuite.Phase> at = atRate(system, rate);
        return at.isEmpty() ? OptionalDouble.empty()
                : OptionalDouble.of(median(at.stream().mapToDouble(OpenLoopSuite.Phase::achieved).toArray()));
    }

    /** The highest rate both systems sustained in every round (0 if none). */
    double commonSustainedRate(String a, String b) {
        return Math.min(min(maxSustained(a)), min(maxSustained(b)));
    }

    /** The offered rate of {@code system}'s sweep nearest to {@code rate}. */
    double nearestRate(String system, double rate) {
        return Arrays.stream(rates(system)).boxed().min((x, y) -> Double.compare(Math.abs(x - rate), Math.abs(y - rate)))
                .orElse(Double.NaN);
    }

    /** The highest rate {@code system} sustained in every round (0 if none). */
    double sustainedEveryRound(String system) {
        return min(maxSustained(system));
    }

    /** Median over rounds of the highest rate sustained. */
    double maxSustainedMedian(String system) {
        return median(maxSustained(system).stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** True when {@code system} sustained the highest rate it was offered in some round: its max is only a lower bound. */
    boolean sustainedEverything(String system) {
        double[] offered = rates(system);
        return offered.length > 0 && maxSustained(system).stream().anyMatch(m -> m == offered[offered.length - 1]);
    }

    /**
     * The summary's rows, each against issue 12's goal: pipeline efficiency, the ceiling's share of the
     * CPU's peak, tuned vs naive (QPS, p99 at the naive's highest sustainable rate) and tuned vs the DJL
     * peer (throughput, p99 at the highest offered load both sustain). Rows whose systems did not run
     * are left out; a row whose figure could not be measured says why and is not met.
     */
    List<Goal> goals() {
        List<Goal> goals = new ArrayList<>();
        boolean tunedRan = !backlog("tuned").isEmpty();
        String engine = tunedEngine();
        if (tunedRan && engine != null) {
            double tuned = backlogMedian("tuned");
            double ceiling = ceilingMedian(engine);
            goals.add(new Goal("pipeline efficiency: tuned worker ÷ ceiling of the engine it ran (" + engine
                    + (engine.equals(engineOf("tuned")) ? "" : ", assumed: the worker reported " + engineOf("tuned"))
                    + "), backlog images/s",
                    String.format("%.3f (%.2f ÷ %.2f img/s)", tuned / ceiling, tuned, ceiling), "≥ " + GOAL_EFFICIENCY,
                    tuned / ceiling >= GOAL_EFFICIENCY));
        }
        if (engine != null) {
            double share = shareOfPeak(engine);
            goals.add(new Goal(String.format("compute: %s ceiling as GFLOP/s per core ÷ the CPU's float32 FMA peak per core",
                    engine), String.format("%.0f %% (%.2f img/s x %.1f GFLOP ÷ %d cores = %.1f GFLOP/s per core; peak %d FLOP/cycle"
                    + " x %.2f GHz = %.1f)", 100 * share, ceilingMedian(engine), RESNET50_GFLOP_PER_IMAGE, coresUsed(),
                    gflopsPerCore(ceilingMedian(engine), coresUsed()), cpu.flopsPerCycle(), cpu.mhz() / 1_000,
                    cpu.peakGflopsPerCore()), String.format("≥ %.0f %%", 100 * GOAL_SHARE_OF_PEAK), share >= GOAL_SHARE_OF_PEAK));
        }
        if (tunedRan && !backlog("naive").isEmpty()) {
            double naive = backlogMedian("naive");
            double tuned = backlogMedian("tuned");
            double gain = tuned / naive - 1;
            goals.add(new Goal("QPS vs the naive baseline (backlog images/s)", String.format("%+.0f %% (%.2f vs %.2f img/s)",
                    100 * gain, tuned, naive), String.format("≥ %+.0f %%", 100 * GOAL_QPS_GAIN_VS_NAIVE),
                    gain >= GOAL_QPS_GAIN_VS_NAIVE));
            double rate = sustainedEveryRound("naive");
            String what = String.format("p99 vs the naive baseline at its highest sustainable rate (%.0f/s, sustained in every"
                    + " round)", rate);
            String goal = String.format("≤ %+.0f %%", 100 * GOAL_P99_CHANGE_VS_NAIVE);
            OptionalDouble a = percentile("tuned", rate, 99);
            OptionalDouble b = percentile("naive", rate, 99);
            if (rate > 0 && a.isPresent() && b.isPresent()) {
                double change = a.getAsDouble() / b.getAsDouble() - 1;
                goals.add(new Goal(what, String.format("%+.0f %% (%.0f vs %.0f ms)", 100 * change, a.getAsDouble(),
                        b.getAsDouble()), goal, change <= GOAL_P99_CHANGE_VS_NAIVE));
            } else {
                goals.add(new Goal(what, rate > 0 ? "tuned did not run that rate (its sweep stopped earlier)"
                        : "the naive baseline sustained no offered rate", goal, false));
            }
        }
        if (tunedRan && !backlog("djl").isEmpty()) {
            double djl = backlogMedian("djl");
            double tuned = backlogMedian("tuned");
            goals.add(new Goal("throughput vs the DJL peer (backlog images/s)", String.format("%.2fx (%.2f vs %.2f img/s)",
                    tuned / djl, tuned, djl), "≥ " + GOAL_THROUGHPUT_VS_PEER + "x", tuned / djl >= GOAL_THROUGHPUT_VS_PEER));
            double rate = commonSustainedRate("tuned", "djl");
            String what = String.format("p99 vs the DJL peer at equal offered load (%.0f/s, the highest both sustain in every"
                    + " round; every rate: see the latency section)", rate);
            String goal = "≤ " + GOAL_P99_VS_PEER + "x";
            if (rate > 0) {
                double a = percentile("tuned", rate, 99).orElse(Double.NaN);
                double b = percentile("djl", rate, 99).orElse(Double.NaN);
                goals.add(new Goal(what, String.format("%.2fx (%.0f vs %.0f ms)", a / b, a, b), goal, a / b <= GOAL_P99_VS_PEER));
            } else {
                goals.add(new Goal(what, "no offered rate sustained by both", goal, false));
            }
        }
        return goals;
    }

    /** Every setting of the sweep, in first-run order, with medians over its runs. */
    List<ParetoSetting> paretoSettings() {
        Map<String, List<ParetoPoint>> byLabel = new LinkedHashMap<>();
        pareto.forEach(p -> byLabel.computeIfAbsent(p.label(), k -> new ArrayList<>()).add(p));
        List<ParetoSetting> settings = new ArrayList<>();
        byLabel.forEach((label, runs) -> settings.add(new ParetoSetting(label, runs.get(0).overrides(),
                runs.stream().map(ParetoPoint::engine).filter(Objects::nonNull).distinct().toList(),
                median(runs.stream().mapToDouble(p -> p.backlog().imagesPerSecond()).toArray()),
                median(runs.stream().mapToDouble(p -> p.phase().latencyMs().getValueAtPercentile(50)).toArray()),
                median(runs.stream().mapToDouble(ParetoPoint::p99).toArray()),
                runs.stream().allMatch(p -> sustained(p.phase())), runs)));
        return settings;
    }

    /** Settings no other setting beats on both throughput (higher) and p99 (lower). */
    List<ParetoSetting> frontier() {
        List<ParetoSetting> all = paretoSettings();
        List<ParetoSetting> front = new ArrayList<>();
        for (ParetoSetting p : all) {
            boolean dominated = all.stream().anyMatch(o -> o != p && o.imagesPerSecond() >= p.imagesPerSecond()
                    && o.p99() <= p.p99() && (o.imagesPerSecond() > p.imagesPerSecond() || o.p99() < p.p99()));
            if (!dominated) {
                front.add(p);
            }
        }
        return front;
    }

    /** The explicit setting (not auto) with the highest median images/s. */
    Optional<ParetoSetting> bestThroughput() {
        return paretoSettings().stream().filter(p -> !p.isAuto()).max(Comparator.comparingDouble(ParetoSetting::imagesPerSecond));
    }

    /**
     * The explicit setting with the lowest median p99 at the sweep's rate among those that sustained
     * it in every run (one that fell behind has a p99 of its queue, not of its latency).
     */
    Optional<ParetoSetting> bestP99() {
        return paretoSettings().stream().filter(p -> !p.isAuto() && p.sustained())
                .min(Comparator.comparingDouble(ParetoSetting::p99));
    }

    Optional<ParetoSetting> autoSetting() {
        return paretoSettings().stream().filter(ParetoSetting::isAuto).findFirst();
    }

    /**
     * The explicit setting that names what auto resolved to (its reported engine, default batch size,
     * thread plan), when the sweep has one: auto and its twin should measure alike.
     */
    Optional<ParetoSetting> autoTwin() {
        Optional<ParetoSetting> auto = autoSetting();
        if (auto.isEmpty() || auto.get().engines().size() != 1) {
            return Optional.empty();
        }
        Map<String, String> resolved = grid.resolvedAuto(auto.get().engines().get(0), autoBatchMax, this.auto);
        return paretoSettings().stream().filter(p -> p.overrides().equals(resolved)).findFirst();
    }

    /**
     * The recommendation: the highest throughput (a fleet is sized by it), settings within
     * {@link #THROUGHPUT_TIE} of it counting as equal; among those the simplest (fewest threads, then
     * the smaller batch, then no per-CPU pinning), then the lower p99. "auto" itself is not a candidate.
     * Simplest before p99 because, between settings that fast, p99 at a moderate rate differs less than
     * one setting's own runs do (see auto's runs in the report).
     */
    ParetoSetting recommended() {
        List<ParetoSetting> candidates = paretoSettings().stream().filter(p -> !p.isAuto()).toList();
        double best = candidates.stream().mapToDouble(ParetoSetting::imagesPerSecond).max().orElse(Double.NaN);
        return candidates.stream().filter(p -> p.imagesPerSecond() >= (1 - THROUGHPUT_TIE) * best)
                .min(Comparator.comparingInt(this::threads)
                        .thenComparingInt(p -> Integer.parseInt(p.overrides().getOrDefault(ParetoGrid.Dim.BATCH.key,
                                Integer.toString(autoBatchMax))))
                        .thenComparing(p -> "cpu".equals(p.overrides().get(ParetoGrid.Dim.PINNING.key)))
                        .thenComparingDouble(ParetoSetting::p99)).orElse(null);
    }

    /** Threads a setting runs: predictors x math threads + decoders (auto's where the setting does not say). */
    private int threads(ParetoSetting p) {
        int predictors = Integer.parseInt(p.overrides().getOrDefault(ParetoGrid.Dim.PREDICTORS.key,
                Integer.toString(auto.predictors())));
        int math = Integer.parseInt(p.overrides().getOrDefault(ParetoGrid.Dim.MATH.key, Integer.toString(auto.mathThreads())));
        int decoders = Integer.parseInt(p.overrides().getOrDefault(ParetoGrid.Dim.DECODERS.key, Integer.toString(predictors)));
        return predictors * math + decoders;
    }

    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    }
}
