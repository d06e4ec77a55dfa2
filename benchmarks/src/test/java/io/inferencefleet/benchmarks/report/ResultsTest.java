package io.inferencefleet.benchmarks.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.benchmarks.worker.OpenLoopSuite;
import io.inferencefleet.worker.config.ThreadPlan;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The report's derived figures: what "sustained", "max sustainable", "frontier" and "recommended" mean. */
class ResultsTest {
    private static final ThreadPlan PLAN = new ThreadPlan(2, 1, 2, ThreadPlan.Pinning.NODE);
    /** An AMD EPYC as these VMs report it: AVX2 + FMA, no AVX-512, 2450 MHz. */
    private static final Machine.Cpu EPYC = Machine.Cpu.parse(List.of("processor\t: 0", "model name\t: AMD EPYC 7B13",
            "cpu MHz\t\t: 2450.000", "flags\t\t: fpu sse4_2 avx fma avx2 bmi2"), 2);
    private final Results results = new Results(Map.of(), EPYC, PLAN, 1, ParetoGrid.parse(ParetoGrid.DEFAULT_DIMS, PLAN), 2,
            15, 10, 240, 1_000, "5");

    @Test
    void aRateIsSustainedOnlyWhenResultsKeepUpWithinTheBoundWithoutErrors() {
        assertTrue(results.sustained(phase(8, 7.9, 250, 0)));
        assertFalse(results.sustained(phase(8, 7.5, 250, 0)), "3 % behind the offered rate");
        assertFalse(results.sustained(phase(8, 8, 1_200, 0)), "p99 over the 1 s bound");
        assertFalse(results.sustained(phase(8, 8, 250, 1)), "an error");
    }

    @Test
    void maxSustainableIsTheLastRateBeforeTheFirstFailureOfEachRoundAndMediansAreOverRounds() {
        results.phases("tuned", 1).addAll(List.of(phase(1, 1, 180, 0), phase(3, 3, 190, 0), phase(5, 4, 900, 0),
                phase(6, 6, 200, 0)));
        results.phases("tuned", 2).addAll(List.of(phase(1, 1, 170, 0), phase(3, 3, 210, 0), phase(5, 5, 230, 0)));
        assertEquals(List.of(3.0, 5.0), results.maxSustained("tuned"));
        assertEquals(175, results.percentile("tuned", 1, 99).orElseThrow(), 1, "median of the two rounds' p99 at 1/s");
        assertEquals(3.0, results.nearestRate("tuned", 2.9));
        results.phases("djl", 1).addAll(List.of(phase(1, 1, 180, 0), phase(3, 2, 190, 0)));
        assertEquals(1.0, results.commonSustainedRate("tuned", "djl"));
    }

    @Test
    void theRecommendationIsTheSimplestOfTheSettingsWithinThreePercentOfTheBestThroughput() {
        pareto("auto", Map.of(), 12.0, 150);
        pareto("P1 M2 D1", setting(1, 2, 1, "node"), 9.0, 120);       // lowest p99: on the frontier, too slow
        pareto("P2 M1 D2 pin", setting(2, 1, 2, "cpu"), 11.9, 200);
        pareto("P2 M1 D4", setting(2, 1, 4, "node"), 11.8, 190);      // more threads than P2 M1 D2
        pareto("P2 M1 D2", setting(2, 1, 2, "node"), 11.7, 220);      // within 3 %, simplest
        pareto("P2 M1 D2 x", setting(2, 1, 2, "node"), 11.0, 100);    // fast p99 but 7.6 % slower: not a candidate
        pareto("P2 M2 D2", setting(2, 2, 2, "node"), 7.0, 250);       // dominated
        assertEquals("P2 M1 D2", results.recommended().label());
        List<String> frontier = results.frontier().stream().map(Results.ParetoSetting::label).toList();
        assertEquals(List.of("auto", "P2 M1 D2 x"), frontier);
    }

    @Test
    void thePeakPerCoreIsFlopPerCycleFromTheSimdFlagsTimesTheReportedClock() {
        assertEquals(32, EPYC.flopsPerCycle(), "AVX2 + FMA: two 256-bit FMA units");
        assertEquals(78.4, EPYC.peakGflopsPerCore(), 1e-9);
        Machine.Cpu xeon = Machine.Cpu.parse(List.of("model name\t: Intel(R) Xeon(R) Processor", "cpu MHz\t\t: 2599.998",
                "flags\t\t: fpu avx fma avx2 avx512f avx512_vnni", "processor\t: 1", "cpu MHz\t\t: 1200.000"), 2);
        assertEquals(64, xeon.flopsPerCycle(), "AVX-512, assuming two 512-bit FMA units");
        assertEquals(2599.998 * 64 / 1_000, xeon.peakGflopsPerCore(), 1e-9, "the first processor's clock");
        assertEquals("Intel(R) Xeon(R) Processor", xeon.model());
        assertEquals(16, Machine.Cpu.parse(List.of("flags\t: sse4_2 avx"), 1).flopsPerCycle(), "AVX without FMA");
        assertEquals(8, Machine.Cpu.parse(List.of("flags\t: sse4_2"), 1).flopsPerCycle());
        assertTrue(Double.isNaN(Machine.Cpu.parse(List.of("flags\t: avx2 fma"), 1).peakGflopsPerCore()), "no clock, no peak");
        assertTrue(EPYC.toString().contains("AMD EPYC 7B13") && EPYC.toString().contains("2450 MHz")
                && EPYC.toString().contains("avx fma avx2 (no avx512f)"), EPYC.toString());
    }

    @Test
    void theComputeGoalIsTheTunedEnginesCeilingInGflopPerCoreAgainstSeventyPercentOfPeak() {
        // 13.0 img/s x 8.2 GFLOP / 2 cores = 53.3 GFLOP/s per core = 68 % of 78.4; 13.5 img/s: 70.6 %
        assertEquals(53.3, Results.gflopsPerCore(13.0, 2), 1e-9);
        results.ceiling("paddle").addAll(List.of(7.0, 7.2));
        results.ceiling("onnxruntime").addAll(List.of(12.8, 13.2));
        results.engineRan("tuned", "onnxruntime");
        results.backlog("tuned").add(new Session.Backlog(240, 12.0, 0, 20));
        assertEquals(2, results.coresUsed());
        assertEquals(53.3 / 78.4, results.shareOfPeak("onnxruntime"), 1e-9);
        Results.Goal compute = goal("compute");
        assertFalse(compute.met(), compute.toString());
        assertTrue(compute.target().contains("onnxruntime") && compute.measured().startsWith("68 %"), compute.toString());
        results.ceiling("onnxruntime").set(0, 13.8);
        assertTrue(goal("compute").met(), "median 13.5 img/s: 70.6 % of peak");
    }

    @Test
    void coresUsedAreAtMostTheCpusThereAre() {
        Results oversubscribed = new Results(Map.of(), EPYC, new ThreadPlan(2, 2, 2, ThreadPlan.Pinning.NODE), 1,
                ParetoGrid.parse("engine", PLAN), 1, 15, 10, 240, 1_000, "5");
        assertEquals(2, oversubscribed.coresUsed(), "2 predictors x 2 math threads on 2 CPUs");
    }

    @Test
    void efficiencyDividesByTheCeilingOfTheEngineTheTunedWorkerReportedNotTheFasterOne() {
        results.ceiling("paddle").add(10.0);
        results.ceiling("onnxruntime").add(20.0);
        results.backlog("tuned").add(new Session.Backlog(240, 9.6, 0, 25));
        results.engineRan("tuned", "paddle");
        Results.Goal efficiency = goal("pipeline efficiency");
        assertTrue(efficiency.met(), efficiency.toString());
        assertTrue(efficiency.measured().startsWith("0.960 (9.60 ÷ 10.00"), efficiency.toString());
    }

    @Test
    void withoutAReportedEngineEfficiencyFallsBackToTheFasterEnginesCeilingAndSaysSo() {
        results.ceiling("paddle").add(10.0);
        results.ceiling("onnxruntime").add(20.0);
        results.backlog("tuned").add(new Session.Backlog(240, 18.0, 0, 25));
        results.engineRan("tuned", null);
        Results.Goal efficiency = goal("pipeline efficiency");
        assertFalse(efficiency.met(), "18 ÷ 20 = 0.90");
        assertTrue(efficiency.target().contains("onnxruntime, assumed"), efficiency.toString());
    }

    @Test
    void versusNaiveIsQpsGainAndP99ChangeAtTheBaselinesHighestRateSustainedInEveryRound() {
        results.backlog("naive").addAll(List.of(new Session.Backlog(240, 6.0, 0, 40), new Session.Backlog(240, 6.0, 0, 40)));
        results.backlog("tuned").addAll(List.of(new Session.Backlog(240, 18.4, 0, 13), new Session.Backlog(240, 18.6, 0, 13)));
        results.phases("naive", 1).addAll(List.of(phase(1, 1, 180, 0), phase(5, 5, 500, 0), phase(6, 5, 900, 0)));
        results.phases("naive", 2).addAll(List.of(phase(1, 1, 180, 0), phase(5, 5, 520, 0), phase(6, 6, 700, 0),
                phase(7, 6, 900, 0)));
        results.phases("tuned", 1).addAll(List.of(phase(1, 1, 150, 0), phase(5, 5, 200, 0), phase(6, 6, 210, 0)));
        results.phases("tuned", 2).addAll(List.of(phase(1, 1, 150, 0), phase(5, 5, 200, 0), phase(6, 6, 215, 0)));
        assertEquals(5.0, results.sustainedEveryRound("naive"), "round 1 stopped at 6/s");
        Results.Goal qps = goal("QPS vs the naive");
        assertTrue(qps.met(), "18.5 vs 6.0: +208 %: " + qps);
        Results.Goal p99 = goal("p99 vs the naive");
        assertTrue(p99.target().contains("(5/s"), p99.toString());
        assertTrue(p99.met(), "200 vs 510 ms: -61 %: " + p99);
        results.backlog("tuned").set(0, new Session.Backlog(240, 17.2, 0, 13));
        assertFalse(goal("QPS vs the naive").met(), "17.9 vs 6.0 is +198 %");
        results.phases("tuned", 1).set(1, phase(5, 5, 220, 0));
        assertFalse(goal("p99 vs the naive").met(), "210 vs 510 ms is -59 %");
    }

    @Test
    void versusThePeerIsThroughputRatioAndP99RatioAtTheHighestRateBothSustain() {
        results.backlog("djl").add(new Session.Backlog(240, 10.0, 0, 24));
        results.backlog("tuned").add(new Session.Backlog(240, 16.0, 0, 15));
        results.phases("djl", 1).addAll(List.of(phase(5, 5, 300, 0), phase(8, 8, 600, 0), phase(9, 8, 2_000, 0)));
        results.phases("tuned", 1).addAll(List.of(phase(5, 5, 180, 0), phase(8, 8, 300, 0), phase(9, 9, 310, 0)));
        assertTrue(goal("throughput vs the DJL").met(), "1.60x");
        Results.Goal p99 = goal("p99 vs the DJL");
        assertTrue(p99.target().contains("(8/s") && p99.met(), "300 vs 600 ms = 0.50x: " + p99);
        results.phases("tuned", 1).set(1, phase(8, 8, 310, 0));
        assertFalse(goal("p99 vs the DJL").met(), "0.52x");
        results.backlog("tuned").set(0, new Session.Backlog(240, 15.9, 0, 15));
        assertFalse(goal("throughput vs the DJL").met(), "1.59x");
    }

    @Test
    void aSystemThatDidNotRunHasNoGoalRow() {
        results.ceiling("onnxruntime").add(20.0);
        results.backlog("tuned").add(new Session.Backlog(240, 19.0, 0, 13));
        assertEquals(List.of("pipeline", "compute:"), results.goals().stream().map(g -> g.target().split(" ")[0]).toList());
    }

    @Test
    void theDefaultSweepIsEngineByBatchByPredictorsByMathThreadsWithAutoFirstAndLast() {
        List<String> labels = ParetoGrid.parse(ParetoGrid.DEFAULT_DIMS, PLAN).settings().stream().map(ParetoGrid::label).toList();
        assertEquals(18, labels.size(), labels.toString());
        assertEquals("auto", labels.get(0));
        assertEquals("auto", labels.get(17));
        assertEquals("paddle B1 P1 M1", labels.get(1));
        assertEquals("ort B4 P2 M2", labels.get(16));
        assertTrue(labels.contains("ort B4 P2 M1"), labels.toString());
        Map<String, String> ortB4 = ParetoGrid.parse(ParetoGrid.DEFAULT_DIMS, PLAN).settings().get(16);
        assertEquals(Map.of("predictor.engine", "onnxruntime", "predictor.batch.max", "4", "predictor.threads", "2",
                "math.threads", "2"), ortB4, "decoders and pinning stay at auto");
    }

    @Test
    void theThreadSweepOfEarlierReportsIsStillAvailable() {
        List<String> labels = ParetoGrid.parse(ParetoGrid.THREAD_DIMS, PLAN).settings().stream().map(ParetoGrid::label).toList();
        assertEquals(18, labels.size());
        assertTrue(labels.containsAll(List.of("P1 M1 D1", "P1 M2 D2 pin", "P2 M1 D4", "P2 M2 D4 pin")), labels.toString());
        assertEquals(List.of("auto", "ort B1", "ort B4", "auto"), ParetoGrid.parse("batch, engine", PLAN).settings().stream()
                .map(ParetoGrid::label).filter(l -> l.equals("auto") || l.startsWith("ort")).toList(), "flag order does not matter");
    }

    @Test
    void anUnknownOrRepeatedDimensionIsAnErrorNamingTheFlagAndValue() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ParetoGrid.parse("engine,threads", PLAN));
        assertTrue(e.getMessage().contains("--pareto.dims") && e.getMessage().contains("'threads'"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ParetoGrid.parse("math,math", PLAN));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
    }

    @Test
    void theVerdictNamesTheBestOnThroughputAndOnP99AndWhetherAutoIsOnTheFront() {
        pareto("auto", Map.of(), "onnxruntime", 15.0, 210, 5);
        pareto("auto", Map.of(), "onnxruntime", 15.4, 190, 5);
        pareto("ort B1 P2 M1", grid("onnxruntime", 1, 2, 1), "onnxruntime", 15.1, 205, 5);   // auto's twin
        pareto("ort B4 P2 M1", grid("onnxruntime", 4, 2, 1), "onnxruntime", 17.0, 230, 5);   // fastest
        pareto("ort B1 P1 M2", grid("onnxruntime", 1, 1, 2), "onnxruntime", 11.0, 150, 5);   // lowest p99
        pareto("paddle B1 P1 M1", grid("paddle", 1, 1, 1), "paddle", 5.0, 100, 4.2);         // lower p99, but fell behind
        assertEquals("ort B4 P2 M1", results.bestThroughput().orElseThrow().label());
        assertEquals("ort B1 P1 M2", results.bestP99().orElseThrow().label(), "a setting that fell behind is no candidate");
        Results.ParetoSetting auto = results.autoSetting().orElseThrow();
        assertEquals(15.2, auto.imagesPerSecond(), 1e-9);
        assertTrue(results.frontier().contains(auto), "200 ms at 15.2 img/s: nothing is both faster and lower");
        assertEquals("ort B1 P2 M1", results.autoTwin().orElseThrow().label());
        pareto("ort B4 P2 M1", grid("onnxruntime", 4, 2, 1), "onnxruntime", 17.0, 150, 5);
        assertFalse(results.frontier().contains(results.autoSetting().orElseThrow()), "now ort B4 P2 M1 dominates it");
    }

    @Test
    void theReportsSummaryComputesMetAndNotMetAndShowsTheCpu(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        results.ceiling("paddle").add(7.0);
        results.ceiling("onnxruntime").add(16.0);
        results.engineRan("tuned", "onnxruntime");
        results.backlog("tuned").add(new Session.Backlog(240, 15.5, 0, 16));
        results.backlog("naive").add(new Session.Backlog(240, 5.0, 0, 48));
        results.phases("tuned", 1).addAll(List.of(phase(1, 1, 120, 0), phase(5, 5, 140, 0), phase(6, 6, 150, 0)));
        results.phases("naive", 1).addAll(List.of(phase(1, 1, 180, 0), phase(5, 5, 400, 0), phase(6, 5, 1_500, 0)));
        pareto("auto", Map.of(), 15.0, 150);
        pareto("ort B1 P2 M1", grid("onnxruntime", 1, 2, 1), 15.2, 160);
        pareto("auto", Map.of(), 15.4, 150);
        List<SystemUnderTest> systems = List.of(FleetReport.system("tuned", PLAN, "auto"), FleetReport.system("naive", PLAN,
                "auto"));
        String report = new ReportWriter(results, systems, dir).write();
        String latest = ReportWriter.latest(report, "fleet-report-x/report.md");
        assertTrue(latest.contains("| 0.969 (15.50 ÷ 16.00 img/s) | ≥ 0.95 | **met** |"), latest);
        assertTrue(latest.contains("| +210 % (15.50 vs 5.00 img/s) | ≥ +200 % | **met** |"), latest);
        assertTrue(latest.contains("| -65 % (140 vs 400 ms) | ≤ -60 % | **met** |"), latest);
        assertTrue(latest.contains("84 % (16.00 img/s x 8.2 GFLOP ÷ 2 cores = 65.6 GFLOP/s per core; peak 32 FLOP/cycle x 2.45"
                + " GHz = 78.4) | ≥ 70 % | **met** |"), latest);
        assertTrue(latest.contains("| paddle | 7.00 | 7.00 | 28.7 | 37 % |"), latest);
        assertTrue(latest.contains("is **on** the Pareto front"), latest);
        assertTrue(latest.contains("auto's own 2 runs spread 15.00–15.40 img/s, which contains the best throughput"), latest);
        assertTrue(report.contains("AMD EPYC 7B13, 2 CPUs available to the JVM, 2450 MHz, flags sse4_2 avx fma avx2 (no avx512f)"),
                report);
        assertTrue(java.nio.file.Files.size(dir.resolve("pareto.png")) > 0);
    }

    @Test
    void theDefaultRunIsEstimatedWithinTheLeadsBudget() {
        Flags defaults = Flags.parse(new String[0], List.of(), FleetReport.DEFAULTS);
        int settings = FleetReport.paretoSettings(defaults, ParetoGrid.parse(defaults.get("pareto.dims"), PLAN)).size();
        double minutes = FleetReport.estimateSeconds(defaults, settings) / 60;
        assertTrue(minutes >= 25 && minutes <= 40, minutes + " min");
        assertEquals(FleetReport.DEFAULTS.keySet(), FleetReport.HELP.keySet(), "every flag has a --help line");
    }

    private Results.Goal goal(String prefix) {
        return results.goals().stream().filter(g -> g.target().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no goal row " + prefix + " in " + results.goals()));
    }

    private static Map<String, String> grid(String engine, int batch, int predictors, int math) {
        return Map.of("predictor.engine", engine, "predictor.batch.max", Integer.toString(batch), "predictor.threads",
                Integer.toString(predictors), "math.threads", Integer.toString(math));
    }

    private static Map<String, String> setting(int predictors, int math, int decoders, String pinning) {
        return Map.of("predictor.threads", Integer.toString(predictors), "math.threads", Integer.toString(math),
                "decoder.threads", Integer.toString(decoders), "predictor.pinning", pinning);
    }

    @Test
    void latestKeepsTheSummaryAndPointsItsLinksIntoTheReportDirectory() {
        String report = "# R\n\nintro\n" + ReportWriter.SUMMARY_START + "\n| a | b |\n\nPlots: [t](throughput.png)\n"
                + ReportWriter.SUMMARY_END + "\n\n## more";
        String latest = ReportWriter.latest(report, "fleet-report-2026-11-27/report.md");
        assertTrue(latest.contains("| a | b |"), latest);
        assertTrue(latest.contains("[t](fleet-report-2026-11-27/throughput.png)"), latest);
        assertFalse(latest.contains("## more"), latest);
    }

    private void pareto(String label, Map<String, String> overrides, double imagesPerSecond, long p99) {
        pareto(label, overrides, "onnxruntime", imagesPerSecond, p99, 5);
    }

    private void pareto(String label, Map<String, String> overrides, String engine, double imagesPerSecond, long p99,
                        double achieved) {
        results.pareto.add(new Results.ParetoPoint(label, 1, overrides, engine, new Session.Backlog(80, imagesPerSecond, 0, 8),
                phase(5, achieved, p99, 0)));
    }

    /** A phase whose histogram has p99 = {@code p99Ms} (100 values, the top two at p99Ms). */
    private static OpenLoopSuite.Phase phase(double offered, double achieved, long p99Ms, int errors) {
        Histogram h = new Histogram(60_000, 3);
        for (int i = 0; i < 98; i++) {
            h.recordValue(Math.max(1, p99Ms - 20));
        }
        h.recordValue(p99Ms);
        h.recordValue(p99Ms);
        return new OpenLoopSuite.Phase(offered, achieved, h, errors, 0, 140, 150);
    }
}
