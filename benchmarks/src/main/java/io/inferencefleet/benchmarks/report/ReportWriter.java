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
        sb.append("# Inference Fleet benchmark report, ").append(LocalDate.now()).append("\n\n");
        sb.append("One run of `").append(r.machine.get("command")).append("` on ").append(r.cpu)
                .append(" (details at the end). Model: generated ResNet-50 (224x224). Requests: the shared photos")
                .append(" (file://). Every system is its own JVM with the project's `jvm.options`, on the same in-process KRaft")
                .append(" broker (in the harness JVM, so it shares the machine with the system under test). ")
                .append(r.rounds).append(r.rounds == 1 ? " round" : " rounds").append("; the systems' order rotates every round;")
                .append(" figures are medians over rounds.\n\n");

        if (r.ceilings.isEmpty() && systems.stream().allMatch(s -> r.backlog(s.name()).isEmpty())) {
            // a Pareto-only run (--headline=false)
            sb.append(SUMMARY_START).append('\n');
            paretoVerdict();
            sb.append(SUMMARY_END).append("\n\n");
            paretoSection();
            machineSection();
            return sb.toString();
        }
        sb.append(SUMMARY_START).append('\n');
        sb.append("| target | measured | goal | met |\n|---|---|---|---|\n");
        for (Results.Goal g : r.goals()) {
            sb.append("| ").append(g.target()).append(" | ").append(g.measured()).append(" | ").append(g.goal()).append(" | ")
                    .append(g.met() ? "**met**" : "**not met**").append(" |\n");
        }
        sb.append('\n');
        ceilingTable();
        if (hasNaive) {
            seedTable();
        }
        if (!r.pareto.isEmpty()) {
            paretoVerdict();
        }
        sb.append("Plots: [throughput](throughput.png), [latency under constant load](latency.png)")
                .append(r.pareto.isEmpty() ? "" : ", [Pareto sweep](pareto.png)").append(".\n");
        sb.append(SUMMARY_END).append("\n\n");

        systemsSection();
        latencySection();
        if (!r.pareto.isEmpty()) {
            paretoSection();
        }
        machineSection();
        return sb.toString();
    }

    private void machineSection() {
        sb.append("## Machine, software, command\n\n| | |\n|---|---|\n");
        r.machine.forEach((k, v) -> sb.append("| ").append(k).append(" | ").append(v.replace("|", "\\|")).append(" |\n"));
        sb.append("\nChild JVM logs of this run are in `benchmarks/target/report-logs/` (not committed).\n");
    }

    /** Ceiling per engine, and each as GFLOP/s per core against the CPU's float32 FMA peak. */
    private void ceilingTable() {
        if (r.ceilings.isEmpty()) {
            return;
        }
        sb.append(String.format("Ceiling per engine: %d weight-sharing predictor clones x %d math thread(s) (auto's plan),"
                + " batch 1, preprocessed tensors in memory, no Kafka, no decoding; GFLOP/s per core = images/s x %.1f GFLOP"
                + " (ResNet-50) ÷ %d cores used (predictors x math threads, at most the CPUs); peak per core = %s.%n%n",
                r.auto.predictors(), r.auto.mathThreads(), Results.RESNET50_GFLOP_PER_IMAGE, r.coresUsed(),
                r.cpu.peakDescription()));
        if (r.autoBatchMax > 1) {
            sb.append(String.format("The tuned worker batches up to %d tensors (predictor.batch.max), the ceiling does not: an"
                    + " efficiency above 1 means batching gained more than the pipeline lost.%n%n", r.autoBatchMax));
        }
        sb.append("| engine | images/s (median) | per round | GFLOP/s per core | ÷ peak |\n|---|---:|---|---:|---:|\n");
        r.ceilings.forEach((engine, perRound) -> sb.append(String.format("| %s%s | %.2f | %s | %.1f | %.0f %% |%n", engine,
                engine.equals(r.engineOf("tuned")) ? " (the tuned worker's)" : "", r.ceilingMedian(engine), join(perRound),
                Results.gflopsPerCore(r.ceilingMedian(engine), r.coresUsed()), 100 * r.shareOfPeak(engine))));
        sb.append('\n');
    }

    /** The seed's form: QPS x → y (+z %), p99 a → b (−c %), and the settings that produced y. */
    private void seedTable() {
        double naive = r.backlogMedian("naive");
        double tuned = r.backlogMedian("tuned");
        double rate = r.sustainedEveryRound("naive");
        sb.append("Baseline → tuned, in the seed's form (same broker, model, photos and run):\n\n");
        sb.append("| | naive baseline | tuned worker | change |\n|---|---:|---:|---:|\n");
        sb.append(String.format("| QPS (images/s working off a backlog of %d) | %.2f | %.2f | %+.0f %% |%n", r.backlogRequests,
                naive, tuned, 100 * (tuned / naive - 1)));
        double maxNaive = r.maxSustainedMedian("naive");
        double maxTuned = r.maxSustainedMedian("tuned");
        String atLeast = r.sustainedEverything("tuned") ? "≥ " : "";
        sb.append(String.format("| max sustainable rate (p99 ≤ %.0f ms, ≥ 97 %% answered in time) | %.1f/s | %s%.1f/s | %s%+.0f %% |%n",
                r.p99BoundMs, maxNaive, atLeast, maxTuned, atLeast, 100 * (maxTuned / maxNaive - 1)));
        if (rate > 0) {
            for (double pct : new double[] {50, 99}) {
                double a = r.percentile("naive", rate, pct).orElse(Double.NaN);
                double b = r.percentile("tuned", rate, pct).orElse(Double.NaN);
                sb.append(String.format("| p%.0f at %.0f/s offered (the baseline's highest sustainable rate) | %.0f ms | %.0f ms |"
                        + " %+.0f %% |%n", pct, rate, a, b, 100 * (b / a - 1)));
            }
        }
        if (!atLeast.isEmpty()) {
            sb.append("\n(≥: the tuned worker sustained the highest rate offered; raise `--rates` to find its limit.)\n");
        }
        String engine = r.engineOf("tuned");
        sb.append("\nSettings that produced the tuned figures: `fleet worker` defaults — engine ")
                .append(engine == null ? "(not reported)" : engine).append(" (predictor.engine=auto picks it at start),")
                .append(" predictor.batch.max=").append(r.autoBatchMax).append(", ").append(r.auto)
                .append(" (`auto` on this machine); tensors decoded by OpenCV straight into shared memory (Chronicle Queue)")
                .append(" and handed to the predictor by address (no copy at batch 1); OpenBLAS Haswell kernels and 1 OpenBLAS")
                .append(" thread (set before Paddle loads); IR optimisation on; every thread on the NUMA node's CPUs; intake")
                .append(" balances requests on each predictor's unanswered jobs; results sent asynchronously (idempotent,")
                .append(" acks=all), offsets committed once results are acknowledged. The naive baseline and the DJL peer run")
                .append(" Paddle's own engine.\n\n");
    }

    private void systemsSection() throws IOException {
        sb.append("## Systems and throughput\n\n");
        sb.append(String.format("- **ceiling**: %d weight-sharing predictor clones x %d math thread(s) on their own threads,"
                + " batch 1, preprocessed tensors in memory, no Kafka, no decoding (in the harness JVM, once per engine and"
                + " round: %s).%n", r.auto.predictors(), r.auto.mathThreads(), String.join(", ", r.ceilings.keySet())));
        for (SystemUnderTest s : systems) {
            sb.append("- **").append(s.name()).append("**: ").append(s.description()).append(".\n");
        }
        String engine = r.tunedEngine();
        double ceiling = engine == null ? Double.NaN : r.ceilingMedian(engine);
        sb.append("\n| system | engine | images/s (median) | ÷ ").append(engine).append(" ceiling | per round |\n")
                .append("|---|---|---:|---:|---|\n");
        Map<String, Double> bars = new LinkedHashMap<>();
        r.ceilings.forEach((e, perRound) -> {
            bars.put("ceiling " + e, r.ceilingMedian(e));
            sb.append(String.format("| ceiling | %s | %.2f | %.3f | %s |%n", e, r.ceilingMedian(e), r.ceilingMedian(e) / ceiling,
                    join(perRound)));
        });
        for (SystemUnderTest s : systems) {
            double v = r.backlogMedian(s.name());
            bars.put(s.name(), v);
            String ran = r.engineOf(s.name());
            sb.append(String.format("| %s | %s | %.2f | %.3f | %s |%n", s.name(), ran == null ? "paddle (not reported)" : ran, v,
                    v / ceiling, join(r.backlog(s.name()).stream().map(Session.Backlog::imagesPerSecond).toList())));
        }
        sb.append(String.format("%nBacklog: %d requests published at once after a warm-up of %d requests in waves of %s;"
                + " images/s over the steady part (first and last 10 %% of completions left out). The engine column is what"
                + " each worker reported in its results' model field (ours: as built by Paddle, so a fallback shows).%n%n"
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

    /**
     * "Defaults from measurement", made explicit: the best setting on throughput and on p99, and
     * whether auto is on the Pareto front (and what its twin, the setting naming auto's resolution, measured).
     */
    private void paretoVerdict() {
        if (r.pareto.isEmpty()) {
            return;
        }
        sb.append("Pareto sweep (").append(r.grid.title()).append("; details in its section):");
        r.bestThroughput().ifPresent(b -> sb.append(String.format(" best throughput **%s** (%.2f img/s);", b.label(),
                b.imagesPerSecond())));
        r.bestP99().ifPresentOrElse(b -> sb.append(String.format(" best p99 at %s/s **%s** (%.0f ms, among the settings that"
                + " sustained that rate in every run);", r.paretoRate, b.label(), b.p99())),
                () -> sb.append(r.bestThroughput().isEmpty() ? " only `auto` ran;" : " no explicit setting sustained "
                        + r.paretoRate + "/s in every run;"));
        r.autoSetting().ifPresent(a -> {
            List<Results.ParetoSetting> front = r.frontier();
            sb.append(String.format(" `auto` (the defaults: engine %s, batch %d, %s) measured %.2f img/s and p99 %.0f ms: it"
                    + " is **%s** the Pareto front", a.engines().isEmpty() ? "not reported" : String.join("/", a.engines()),
                    r.autoBatchMax, r.auto, a.imagesPerSecond(), a.p99(), front.contains(a) ? "on" : "not on"));
            r.bestThroughput().ifPresent(b -> sb.append(String.format(" (%.0f %% of the best throughput", 100 * a.imagesPerSecond()
                    / b.imagesPerSecond())));
            r.bestP99().ifPresent(b -> sb.append(String.format(", %.2fx the best p99", a.p99() / b.p99())));
            if (r.bestThroughput().isPresent()) {
                sb.append(")");
            }
            r.autoTwin().ifPresent(t -> sb.append(String.format("; the setting naming what it resolved to, %s, measured %.2f"
                    + " img/s and p99 %.0f ms%s", t.label(), t.imagesPerSecond(), t.p99(), front.contains(t) ? " (on the front)"
                    : "")));
            // auto runs first and last in every round, so its own runs show how far the machine drifted: a
            // gap smaller than that spread is not resolved by this run.
            double low = a.runs().stream().mapToDouble(x -> x.backlog().imagesPerSecond()).min().orElse(Double.NaN);
            double high = a.runs().stream().mapToDouble(x -> x.backlog().imagesPerSecond()).max().orElse(Double.NaN);
            sb.append(String.format("; auto's own %d runs spread %.2f–%.2f img/s", a.runs().size(), low, high));
            r.bestThroughput().filter(b -> b.imagesPerSecond() <= high).ifPresent(b -> sb.append(", which contains the best"
                    + " throughput: the gap is within this run's drift"));
            sb.append('.');
        });
        Results.ParetoSetting recommended = r.recommended();
        if (recommended != null) {
            sb.append(String.format(" Recommended by the sweep's rule: **%s**.", recommended.label()));
        }
        sb.append("\n\n");
    }

    private void paretoSection() throws IOException {
        List<Results.ParetoSetting> settings = r.paretoSettings();
        int runs = settings.stream().mapToInt(p -> p.runs().size()).max().orElse(0);
        sb.append("## Pareto sweep: ").append(r.grid.title()).append("\n\n");
        sb.append("Our worker with each setting (engine `paddle` = Paddle's own, `ort` = Paddle's ONNX Runtime backend; B ="
                + " predictor.batch.max; P predictor threads; M math threads each; D decoder threads; `pin` ="
                + " `predictor.pinning=cpu`; what a label does not name stays at the defaults): images/s working off a backlog,"
                + " and p50/p99 at ").append(r.paretoRate).append("/s offered for ").append(r.paretoSeconds)
                .append(" s. The settings run in order, then in reverse order; `auto` (the defaults) runs first and last in")
                .append(" each, so its spread shows the machine's drift. Medians over runs; per-run values in the runs columns.")
                .append(" \"engine ran\" is what the worker reported (a fallback to Paddle's engine shows there).")
                .append(" \"sustained\": every run kept up with the rate (≥ 97 % answered in time, p99 ≤ ")
                .append(String.format("%.0f", r.p99BoundMs)).append(" ms, no errors).\n\n");
        sb.append("| setting | engine ran | images/s | p50 ms | p99 ms | sustained | runs: images/s | runs: p99 ms | frontier |\n"
                + "|---|---|---:|---:|---:|---|---|---|---|\n");
        List<Results.ParetoSetting> frontier = r.frontier();
        List<Plots.Labelled> points = new ArrayList<>();
        for (Results.ParetoSetting p : settings) {
            boolean onFront = frontier.contains(p);
            sb.append(String.format("| %s | %s | %.2f | %.0f | %.0f | %s | %s | %s | %s |%n", p.label(),
                    p.engines().isEmpty() ? "?" : String.join("/", p.engines()), p.imagesPerSecond(), p.p50(), p.p99(),
                    p.sustained() ? "yes" : "no", join(p.runs().stream().map(x -> x.backlog().imagesPerSecond()).toList()),
                    String.join(", ", p.runs().stream().map(x -> String.format("%.0f", x.p99())).toList()),
                    onFront ? "yes" : ""));
            points.add(new Plots.Labelled(p.label(), p.isAuto() ? "auto" : p.engines().isEmpty() ? "?" : String.join("/",
                    p.engines()), p.imagesPerSecond(), p.p99(), onFront));
        }
        Results.ParetoSetting recommended = r.recommended();
        if (recommended != null) {
            sb.append(String.format("%nRecommended for this machine (the highest images/s, settings within %.0f %% of it counting"
                    + " as equal; among those the simplest: fewest threads, then the smaller batch, then no per-CPU pinning,"
                    + " then the lower p99): **%s** — %.2f img/s, p99 %.0f ms at %s/s. `auto` resolves to %s, batch %d here",
                    100 * Results.THROUGHPUT_TIE, recommended.label(), recommended.imagesPerSecond(), recommended.p99(),
                    r.paretoRate, r.auto, r.autoBatchMax));
            r.autoSetting().ifPresent(auto -> sb.append(String.format(
                    "; its own %d runs spread %.2f–%.2f img/s and %.0f–%.0f ms p99", auto.runs().size(),
                    auto.runs().stream().mapToDouble(x -> x.backlog().imagesPerSecond()).min().orElse(0),
                    auto.runs().stream().mapToDouble(x -> x.backlog().imagesPerSecond()).max().orElse(0),
                    auto.runs().stream().mapToDouble(Results.ParetoPoint::p99).min().orElse(0),
                    auto.runs().stream().mapToDouble(Results.ParetoPoint::p99).max().orElse(0))));
            sb.append(".\n");
        }
        sb.append("\n![pareto](pareto.png)\n\n");
        Plots.pareto(dir.resolve("pareto.png"), "Worker settings: throughput vs p99 at " + r.paretoRate + "/s (medians of "
                + Math.max(1, runs / 2) + "-" + runs + " runs)", "images/s (backlog)", "p99 ms at " + r.paretoRate + "/s", points);
    }

    private boolean has(String system) {
        return systems.stream().anyMatch(s -> s.name().equals(system));
    }

    private static String join(List<Double> values) {
        return String.join(", ", values.stream().map(v -> String.format("%.2f", v)).toList());
    }
}
