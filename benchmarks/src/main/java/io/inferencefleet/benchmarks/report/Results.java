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
    /** One configuration of the Pareto sweep: its backlog throughput and its latency at the sweep's offered rate. */
    record ParetoPoint(String label, Map<String, String> overrides, Session.Backlog backlog, OpenLoopSuite.Phase phase) {
        double p99() {
            return phase.latencyMs().getValueAtPercentile(99);
        }
    }

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

    /** Points no other point beats on both throughput (higher) and p99 (lower). */
    List<ParetoPoint> frontier() {
        List<ParetoPoint> front = new ArrayList<>();
        for (ParetoPoint p : pareto) {
            boolean dominated = pareto.stream().anyMatch(o -> o != p
                    && o.backlog().imagesPerSecond() >= p.backlog().imagesPerSecond() && o.p99() <= p.p99()
                    && (o.backlog().imagesPerSecond() > p.backlog().imagesPerSecond() || o.p99() < p.p99()));
            if (!dominated) {
                front.add(p);
            }
        }
        return front;
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
