package io.inferencefleet.benchmarks.report;

import io.inferencefleet.benchmarks.worker.OpenLoopSuite;
import io.inferencefleet.worker.config.ThreadPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;

/** Everything one report run measured, and the few derived figures the report is about. */
final class Results {
    /** One run of one setting in the Pareto sweep: backlog throughput and latency at the sweep's offered rate. */
    record ParetoPoint(String label, int round, Map<String, String> overrides, Session.Backlog backlog,
                       OpenLoopSuite.Phase phase) {
        double p99() {
            return phase.latencyMs().getValueAtPercentile(99);
        }
    }

    /** A setting of the sweep with the medians of its runs. */
    record ParetoSetting(String label, Map<String, String> overrides, double imagesPerSecond, double p50, double p99,
                         List<ParetoPoint> runs) {}

    /** Points within this fraction of the best throughput count as equally fast (run-to-run noise is about this). */
    static final double THROUGHPUT_TIE = 0.03;

    final Map<String, String> machine;
    final ThreadPlan auto;
    final int rounds;
    final int seconds;
    final int backlogRequests;
    final double p99BoundMs;
    final String paretoRate;
    final List<Double> ceiling = new ArrayList<>();
    final List<ParetoPoint> pareto = new ArrayList<>();
    private final Map<String, List<Session.Backlog>> backlogs = new LinkedHashMap<>();
    private final Map<String, Map<Integer, List<OpenLoopSuite.Phase>>> phases = new LinkedHashMap<>();

    Results(Map<String, String> machine, ThreadPlan auto, int rounds, int seconds, int backlogRequests, double p99BoundMs,
            String paretoRate) {
        this.machine = machine;
        this.auto = auto;
        this.rounds = rounds;
        this.seconds = seconds;
        this.backlogRequests = backlogRequests;
        this.p99BoundMs = p99BoundMs;
        this.paretoRate = paretoRate;
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

    /** Every setting of the sweep, in first-run order, with medians over its runs. */
    List<ParetoSetting> paretoSettings() {
        Map<String, List<ParetoPoint>> byLabel = new LinkedHashMap<>();
        pareto.forEach(p -> byLabel.computeIfAbsent(p.label(), k -> new ArrayList<>()).add(p));
        List<ParetoSetting> settings = new ArrayList<>();
        byLabel.forEach((label, runs) -> settings.add(new ParetoSetting(label, runs.get(0).overrides(),
                median(runs.stream().mapToDouble(p -> p.backlog().imagesPerSecond()).toArray()),
                median(runs.stream().mapToDouble(p -> p.phase().latencyMs().getValueAtPercentile(50)).toArray()),
                median(runs.stream().mapToDouble(ParetoPoint::p99).toArray()), runs)));
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

    /**
     * The recommendation: the highest throughput (a fleet is sized by it), settings within
     * {@link #THROUGHPUT_TIE} of it counting as equal; among those the simplest (fewest threads, then
     * no per-CPU pinning), then the lower p99. "auto" itself is not a candidate. Simplest before p99
     * because, between settings that fast, p99 at a moderate rate differs less than one setting's
     * own runs do (see auto's runs in the report).
     */
    ParetoSetting recommended() {
        List<ParetoSetting> candidates = paretoSettings().stream().filter(p -> !p.overrides().isEmpty()).toList();
        double best = candidates.stream().mapToDouble(ParetoSetting::imagesPerSecond).max().orElse(Double.NaN);
        return candidates.stream().filter(p -> p.imagesPerSecond() >= (1 - THROUGHPUT_TIE) * best)
                .min(java.util.Comparator.comparingInt(Results::threads)
                        .thenComparing(p -> "cpu".equals(p.overrides().get("predictor.pinning")))
                        .thenComparingDouble(ParetoSetting::p99)).orElse(null);
    }

    /** Threads a setting runs: predictors x math threads + decoders. */
    private static int threads(ParetoSetting p) {
        int predictors = Integer.parseInt(p.overrides().getOrDefault("predictor.threads", "1"));
        int math = Integer.parseInt(p.overrides().getOrDefault("math.threads", "1"));
        int decoders = Integer.parseInt(p.overrides().getOrDefault("decoder.threads", Integer.toString(predictors)));
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
