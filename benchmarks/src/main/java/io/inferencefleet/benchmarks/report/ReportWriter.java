package io.inferencefleet.benchmarks.report;

import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/** Turns {@link Results} into the Markdown report and its PNG plots. */
final class ReportWriter {
    static final String SUMMARY_START = "<!-- summary -->";
    static final String SUMMARY_END = "<!-- /summary -->";
    /** The recommended setting: the highest throughput whose p99 is within this factor of the best p99. */
    static final double P99_SLACK = 1.25;

    private final Results r;
    private final List<SystemUnderTest> systems;
    private final Path dir;
    private final StringBuilder sb = new StringBuilder();

    ReportWriter(Results results, List<SystemUnderTest> systems, Path dir) {
        this.r = results;
        this.systems = systems;
        this.dir = dir;
    }

    /** The summary block of a report, with a link to it: the content of LATEST.md. */
    static String latest(String report, String link) {
        int from = report.indexOf(SUMMARY_START);
        int to = report.indexOf(SUMMARY_END);
        String summary = from >= 0 && to > from ? report.substring(from + SUMMARY_START.length(), to).trim() : report;
        return "# Latest benchmark summary\n\nFrom [" + link + "](" + link + "), which has the method, all tables and the"
                + " plots.\n\n" + summary.replace("](", "](" + Path.of(link).getParent() + "/") + "\n";
    }

    String write() throws IOException {
        boolean hasNaive = has("naive");
        boolean hasDjl = has("djl");
        sb.append("# Inference Fleet benchmark report, ").append(LocalDate.now()).append("\n\n");
        sb.append("One run of `").append(r.machine.get("command")).append("` on ").append(r.machine.get("CPU"))
                .append(" (details at the end). Model: generated ResNet-50 (batch 1, 224x224). Requests: the shared photos")
                .append(" (file://). Every system is its own JVM with the project's `jvm.options`, on the same in-process KRaft")
                .append(" broker (in the harness JVM, so it shares the machine with the system under test). ")
                .append(r.rounds).append(r.rounds == 1 ? " round" : " rounds").append("; the systems' order rotates every round;")
                .append(" figures are medians over rounds.\n\n");

        if (r.ceiling.isEmpty()) {  // a Pareto-only run (--headline=false)
            paretoSection();
            return sb.toString();
        }
        sb.append(SUMMARY_START).append('\n');
        sb.append("| target | measured | goal | met |\n|---|---|---|---|\n");
        double ceiling = Results.median(r.ceiling.stream().mapToDouble(Double::doubleValue).toArray());
        double tuned = r.backlogMedian("tuned");
        row("pipeline efficiency: tuned worker ÷ ceiling (backlog images/s)",
                String.format("%.3f (%.2f ÷ %.2f img/s)", tuned / ceiling, tuned, ceiling), "≥ 0.95", tuned / ceiling >= 0.95);
        double max = Results.median(r.maxSustained("tuned").stream().mapToDouble(Double::doubleValue).toArray());
        if (max > 0) {
            double high = r.nearestRate("tuned", 0.8 * max);
            double low = r.nearestRate("tuned", 0.1 * max);
            double p99 = r.percentile("tuned", high, 99).orElse(Double.NaN);
            double p50 = r.percentile("tuned", low, 50).orElse(Double.NaN);
            row(String.format("tail: p99 at ~80 %% of max sustainable (%.0f/s) ÷ p50 at ~10 %% (%.0f/s)", high, low),
                    String.format("%.2f (%.0f ÷ %.0f ms)", p99 / p50, p99, p50), "≤ 1.5", p99 / p50 <= 1.5);
        }
        if (hasDjl) {
            double djl = r.backlogMedian("djl");
            row("throughput vs the DJL peer (backlog images/s)", String.format("%.2fx (%.2f vs %.2f img/s)", tuned / djl, tuned,
                    djl), "≥ 1.2x", tuned / djl >= 1.2);
            double rate = r.commonSustainedRate("tuned", "djl");
            if (rate > 0) {
                double a = r.percentile("tuned", rate, 99).orElse(Double.NaN);
                double b = r.percentile("djl", rate, 99).orElse(Double.NaN);
                row(String.format("p99 vs the DJL peer at equal offered load (%.0f/s, the highest both sustain; every rate:"
                        + " see the latency section)", rate),
                        String.format("%.2fx (%.0f vs %.0f ms)", a / b, a, b), "≤ 0.7x", a / b <= 0.7);
            }
        }
        sb.append('\n');
        if (hasNaive) {
            seedTable();
        }
        sb.append("Plots: [throughput](throughput.png), [latency under constant load](latency.png)")
                .append(r.pareto.isEmpty() ? "" : ", [Pareto sweep](pareto.png)").append(".\n");
        sb.append(SUMMARY_END).append("\n\n");

        systemsSection(ceiling);
        latencySection();
        if (!r.pareto.isEmpty()) {
            paretoSection();
        }
        sb.append("## Machine, software, command\n\n| | |\n|---|---|\n");
        r.machine.forEach((k, v) -> sb.append("| ").append(k).append(" | ").append(v.replace("|", "\\|")).append(" |\n"));
        sb.append("\nChild JVM logs of this run are in `benchmarks/target/report-logs/` (not committed).\n");
        return sb.toString();
    }

    /** The seed's form: QPS x → y (+z %), p99 a → b (−c %), and the settings that produced y. */
    private void seedTable() {
        double naive = r.backlogMedian("naive");
        double tuned = r.backlogMedian("tuned");
        double rate = r.commonSustainedRate("naive", "tuned");
        sb.append("Baseline → tuned, in the seed's form (same broker, model, photos and run):\n\n");
        sb.append("| | naive baseline | tuned worker | change |\n|---|---:|---:|---:|\n");
        sb.append(String.format("| QPS (images/s working off a backlog of %d) | %.2f | %.2f | %+.0f %% |%n", r.backlogRequests,
                naive, tuned, 100 * (tuned / naive - 1)));
        double maxNaive = Results.median(r.maxSustained("naive").stream().mapToDouble(Double::doubleValue).toArray());
        double maxTuned = Results.median(r.maxSustained("tuned").stream().mapToDouble(Double::doubleValue).toArray());
        sb.append(String.format("| max sustainable rate (p99 ≤ %.0f ms, ≥ 97 %% answered in time) | %.1f/s | %.1f/s | %+.0f %% |%n",
                r.p99BoundMs, maxNaive, maxTuned, 100 * (maxTuned / maxNaive - 1)));
        if (rate > 0) {
            for (double pct : new double[] {50, 99}) {
                double a = r.percentile("naive", rate, pct).orElse(Double.NaN);
                double b = r.percentile("tuned", rate, pct).orElse(Double.NaN);
                sb.append(String.format("| p%.0f at %.0f/s offered (highest rate both sustain) | %.0f ms | %.0f ms | %+.0f %% |%n",
                        pct, rate, a, b, 100 * (b / a - 1)));
            }
        }
        sb.append("\nSettings that produced the tuned figures: `fleet worker` defaults — ").append(r.auto)
                .append(" (`auto` on this machine); tensors decoded by OpenCV straight into shared memory (Chronicle Queue)")
                .append(" and handed to Paddle by address (no copy); OpenBLAS Haswell kernels and 1 OpenBLAS thread (set")
                .append(" before Paddle loads); IR optimisation on; every thread on the NUMA node's CPUs; intake balances")
                .append(" requests on each predictor's unanswered jobs; results sent asynchronously (idempotent, acks=all),")
                .append(" offsets committed once results are acknowledged.\n\n");
    }

    private void systemsSection(double ceiling) throws IOException {
        sb.append("## Systems and throughput\n\n");
        sb.append(String.format("- **ceiling**: %d weight-sharing predictor clones x %d math thread(s) on their own threads,"
                + " preprocessed tensors in memory, no Kafka, no decoding (in the harness JVM, 15 s per round).%n",
                r.auto.predictors(), r.auto.mathThreads()));
        for (SystemUnderTest s : systems) {
            sb.append("- **").append(s.name()).append("**: ").append(s.description()).append(".\n");
        }
        sb.append("\n| system | images/s (median) | ÷ ceiling | per round |\n|---|---:|---:|---|\n");
        Map<String, Double> bars = new LinkedHashMap<>();
        bars.put("ceiling", ceiling);
        sb.append(String.format("| ceiling | %.2f | 1.000 | %s |%n", ceiling, join(r.ceiling)));
        for (SystemUnderTest s : systems) {
            double v = r.backlogMedian(s.name());
            bars.put(s.name(), v);
            sb.append(String.format("| %s | %.2f | %.3f | %s |%n", s.name(), v, v / ceiling,
                    join(r.backlog(s.name()).stream().map(Session.Backlog::imagesPerSecond).toList())));
        }
        sb.append(String.format("%nBacklog: %d requests published at once after a warm-up of %d requests in waves of %s;"
                + " images/s over the steady part (first and last 10 %% of completions left out).%n%n"
                + "![throughput](throughput.png)%n%n", r.backlogRequests,
                java.util.Arrays.stream(Session.WARM_UP_WAVES).sum(), java.util.Arrays.toString(Session.WARM_UP_WAVES)));
        Plots.bars(dir.resolve("throughput.png"), "ResNet-50 images/s, backlog (median of " + r.rounds + " rounds)",
                "images/s", bars);
    }

    private void latencySection() throws IOException {
        sb.append("## Latency under constant offered load (open loop)\n\n");
        sb.append("Requests at uniform intervals for ").append(r.seconds).append(" s per rate (like wrk2); latency from each")
                .append(" request's scheduled send time to its result's arrival, so a stalled system is charged for the")
                .append(" requests it delayed (no coordinated omission); HdrHistogram. Rates go up until the first one a system")
                .append(" does not sustain (results ≥ 97 % of offered in the steady part, p99 ≤ ")
                .append(String.format("%.0f", r.p99BoundMs)).append(" ms, no errors). Medians over rounds, ms.\n\n");
        sb.append("| system | offered /s | achieved /s | p50 | p90 | p99 | p99.9 | rounds |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        Map<String, List<Plots.Point>> curves = new LinkedHashMap<>();
        for (SystemUnderTest s : systems) {
            List<Plots.Point> p99 = new ArrayList<>();
            List<Plots.Point> p50 = new ArrayList<>();
            for (double rate : r.rates(s.name())) {
                OptionalDouble a = r.achieved(s.name(), rate);
                double v50 = r.percentile(s.name(), rate, 50).orElse(Double.NaN);
                double v99 = r.percentile(s.name(), rate, 99).orElse(Double.NaN);
                sb.append(String.format("| %s | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f | %d |%n", s.name(), rate, a.orElse(0),
                        v50, r.percentile(s.name(), rate, 90).orElse(Double.NaN), v99,
                        r.percentile(s.name(), rate, 99.9).orElse(Double.NaN), r.atRate(s.name(), rate).size()));
                p99.add(new Plots.Point(rate, v99));
                p50.add(new Plots.Point(rate, v50));
            }
            curves.put(s.name() + " p99", p99);
            curves.put(s.name() + " p50", p50);
            sb.append(String.format("| %s: max sustainable per round | %s | | | | | | |%n", s.name(), join(r.maxSustained(s.name()))));
        }
        if (has("djl")) {
            peerByRate();
        }
        sb.append("\n![latency](latency.png)\n\n");
        Plots.latencyCurves(dir.resolve("latency.png"), "End-to-end latency vs offered load (p99 solid, p50 dashed)", curves);
    }

    /** Tuned vs peer at every offered rate both ran, so "equal offered load" is not one cherry-picked rate. */
    private void peerByRate() {
        sb.append("\nTuned ÷ DJL peer at equal offered load (medians over rounds; < 1 means ours is lower):\n\n");
        sb.append("| offered /s | p50 ratio | p99 ratio | both sustained |\n|---:|---:|---:|---|\n");
        double common = r.commonSustainedRate("tuned", "djl");
        for (double rate : r.rates("djl")) {
            OptionalDouble t50 = r.percentile("tuned", rate, 50);
            OptionalDouble t99 = r.percentile("tuned", rate, 99);
            if (t50.isEmpty()) {
                continue;
            }
            sb.append(String.format("| %.0f | %.2f | %.2f | %s |%n", rate, t50.getAsDouble() / r.percentile("djl", rate, 50)
                    .orElse(Double.NaN), t99.getAsDouble() / r.percentile("djl", rate, 99).orElse(Double.NaN),
                    rate <= common ? "yes" : "no"));
        }
    }

    private void paretoSection() throws IOException {
        List<Results.ParetoSetting> settings = r.paretoSettings();
        int runs = settings.stream().mapToInt(p -> p.runs().size()).max().orElse(0);
        sb.append("## Pareto sweep: predictor x math x decoder threads, predictor pinning\n\n");
        sb.append("Our worker with each setting (P predictor threads, M math threads each, D decoder threads, `pin` ="
                + " `predictor.pinning=cpu`, else `node`): images/s working off a backlog, and p50/p99 at ").append(r.paretoRate)
                .append("/s offered for ").append(r.seconds).append(" s. The settings run in order, then in reverse order;")
                .append(" `auto` (the default) runs first and last in each, so its spread shows the machine's drift. Medians")
                .append(" over runs; per-run values in brackets.\n\n");
        sb.append("| setting | images/s | p50 ms | p99 ms | runs: images/s | runs: p99 ms | frontier |\n"
                + "|---|---:|---:|---:|---|---|---|\n");
        List<Results.ParetoSetting> frontier = r.frontier();
        List<Plots.Labelled> points = new ArrayList<>();
        for (Results.ParetoSetting p : settings) {
            boolean onFront = frontier.contains(p);
            sb.append(String.format("| %s | %.2f | %.0f | %.0f | %s | %s | %s |%n", p.label(), p.imagesPerSecond(), p.p50(), p.p99(),
                    join(p.runs().stream().map(x -> x.backlog().imagesPerSecond()).toList()),
                    String.join(", ", p.runs().stream().map(x -> String.format("%.0f", x.p99())).toList()),
                    onFront ? "yes" : ""));
            points.add(new Plots.Labelled(p.label(), p.imagesPerSecond(), p.p99(), onFront));
        }
        Results.ParetoSetting recommended = r.recommended();
        if (recommended != null) {
            sb.append(String.format("%nRecommended for this machine (the highest images/s, settings within %.0f %% of it counting"
                    + " as equal; among those the simplest: fewest threads, then no per-CPU pinning, then the lower p99):"
                    + " **%s** — %.2f img/s, p99 %.0f ms at %s/s. `auto` resolves to %s here", 100 * Results.THROUGHPUT_TIE,
                    recommended.label(), recommended.imagesPerSecond(), recommended.p99(), r.paretoRate, r.auto));
            settings.stream().filter(p -> p.overrides().isEmpty()).findFirst().ifPresent(auto -> sb.append(String.format(
                    "; its own %d runs spread %.2f–%.2f img/s and %.0f–%.0f ms p99", auto.runs().size(),
                    auto.runs().stream().mapToDouble(x -> x.backlog().imagesPerSecond()).min().orElse(0),
                    auto.runs().stream().mapToDouble(x -> x.backlog().imagesPerSecond()).max().orElse(0),
                    auto.runs().stream().mapToDouble(Results.ParetoPoint::p99).min().orElse(0),
                    auto.runs().stream().mapToDouble(Results.ParetoPoint::p99).max().orElse(0))));
            sb.append(".\n");
        }
        sb.append("\n![pareto](pareto.png)\n\n");
        Plots.pareto(dir.resolve("pareto.png"), "Thread settings: throughput vs p99 at " + r.paretoRate + "/s (medians of "
                + runs / 2 + "-" + runs + " runs)", "images/s (backlog)", "p99 ms at " + r.paretoRate + "/s", points);
    }

    private void row(String what, String measured, String goal, boolean met) {
        sb.append("| ").append(what).append(" | ").append(measured).append(" | ").append(goal).append(" | ")
                .append(met ? "**met**" : "**not met**").append(" |\n");
    }

    private boolean has(String system) {
        return systems.stream().anyMatch(s -> s.name().equals(system));
    }

    private static String join(List<Double> values) {
        return String.join(", ", values.stream().map(v -> String.format("%.2f", v)).toList());
    }
}
