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
    private final Results results = new Results(Map.of(), new ThreadPlan(2, 1, 2, ThreadPlan.Pinning.CPU), 2, 15, 240,
            1_000, "5");

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
        results.pareto.add(new Results.ParetoPoint(label, 1, overrides, new Session.Backlog(80, imagesPerSecond, 0, 8),
                phase(5, 5, p99, 0)));
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
