package io.inferencefleet.benchmarks.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the chaos checker counts: answered, lost, duplicates per kill, unexpected answers, drain, gaps. */
class ResultLedgerTest {
    private final ResultLedger ledger = new ResultLedger();
    private int resultOffset;

    @Test
    void countsAnsweredLostAndDuplicatesPerKill() {
        request("k-000001", "{\"id\":\"k-000001\",\"imageUri\":\"file:///a.jpg\"}", 0, 0, 1_000);
        request("k-000002", "{\"id\":\"k-000002\",\"imageUri\":\"file:///b.jpg\"}", 1, 0, 1_100);
        request("k-000003", "{\"id\":\"k-000003\",\"imageUri\":\"file:///c.jpg\"}", 0, 1, 1_200);
        result("k-000001", ok("k-000001", 0, 0), 2_000);
        result("k-000002", ok("k-000002", 1, 0), 2_100);
        result("k-000001", ok("k-000001", 0, 0), 6_000);  // again after kill 1: its offset was not committed
        result("k-000001", ok("k-000001", 0, 0), 9_000);  // and after kill 2
        result("k-000002", ok("k-000002", 1, 0), 9_500);  // and after kill 2
        List<ResultLedger.Disruption> kills = List.of(new ResultLedger.Disruption("worker kill", 1, 5_000, "w0", 10),
                new ResultLedger.Disruption("worker kill", 2, 8_000, "w1", 11));

        ResultLedger.Tally t = ledger.tally(kills);

        assertEquals(3, t.requests());
        assertEquals(2, t.answered());
        assertEquals(1, t.lost());
        assertEquals(List.of("k-000003"), t.lostIds());
        assertEquals(3, t.duplicates());
        assertEquals(2, t.idsWithDuplicates());
        assertEquals(0, t.duplicatesBeforeFirst());
        assertEquals(1, t.perDisruption().get(0).duplicates());
        assertEquals(2, t.perDisruption().get(1).duplicates());
        assertEquals(2, t.perDisruption().get(1).ids());
        assertEquals(Map.of("OK", 2), t.answers());
        assertEquals(8.3, t.drainSeconds(), 1e-9, "from the last publish (1.2 s) to the last result (9.5 s)");
        assertEquals(0, t.inconsistentSources());
    }

    @Test
    void aBadJsonRequestIsMatchedByItsKeyAndBadRequestsMustGetTheirErrorCode() {
        request("b-000010-badjson", "{\"id\": \"b-000010-badjson\", \"imageUri\": ", 2, 7, 1_000);
        request("b-000020-missing", "{\"id\":\"b-000020-missing\",\"imageUri\":\"file:///x/missing.jpg\"}", 2, 8, 1_000);
        request("b-000030-truncated", "{\"id\":\"b-000030-truncated\",\"imageUri\":\"file:///x/truncated.jpg\"}", 2, 9, 1_000);
        result("b-000010-badjson", error("unknown@chaos-images-2:7", 2, 7, "bad_request"), 1_500);
        result("b-000020-missing", error("b-000020-missing", 2, 8, "not_found"), 1_500);
        result("b-000030-truncated", ok("b-000030-truncated", 2, 9), 1_500);  // wrong: must be truncated_image

        ResultLedger.Tally t = ledger.tally(List.of());

        assertEquals(0, t.lost());
        assertEquals(0, t.unmatchedResults());
        assertEquals(Map.of("truncated -> OK", 1), t.unexpected());
    }

    @Test
    void resultsOfUnknownRequestsAndWrongSourcesAreCountedNotMatched() {
        request("r-000001", "{\"id\":\"r-000001\",\"imageUri\":\"file:///a.jpg\"}", 0, 0, 1_000);
        result(null, ok("nobody", 0, 5), 1_500);
        result("r-000001", ok("r-000001", 3, 3), 1_600);

        ResultLedger.Tally t = ledger.tally(List.of());

        assertEquals(1, t.unmatchedResults());
        assertEquals(1, t.inconsistentSources());
        assertEquals(1, t.answered());
    }

    @Test
    void theLongestGapCountsFromTheDisruptionAndStopsAtTheNextOne() {
        long[] answers = {1_000, 2_000, 9_000, 10_000, 30_000};
        assertEquals(7_000, ResultLedger.longestGap(answers, 1_500, 20_000), "2 000 -> 9 000");
        assertEquals(7_000, ResultLedger.longestGap(answers, 1_500, 9_500), "2 000 -> 9 000; 10 000 is after the next one");
        assertEquals(3_500, ResultLedger.longestGap(answers, 5_500, 9_500), "from the disruption to the first answer");
        assertEquals(-1, ResultLedger.longestGap(answers, 11_000, 29_000), "no answer in between");
    }

    @Test
    void bucketsCountPublishedAndAnsweredFromTheFirstRequest() {
        request("q-000001", "{\"id\":\"q-000001\"}", 0, 0, 10_000);
        request("q-000002", "{\"id\":\"q-000002\"}", 0, 1, 16_000);
        result("q-000001", ok("q-000001", 0, 0), 11_000);
        result("q-000002", ok("q-000002", 0, 1), 21_000);

        List<int[]> buckets = ledger.tally(List.of()).perBucket();

        assertEquals(3, buckets.size());
        assertTrue(buckets.get(0)[0] == 1 && buckets.get(0)[1] == 1);
        assertTrue(buckets.get(1)[0] == 1 && buckets.get(1)[1] == 0);
        assertTrue(buckets.get(2)[0] == 0 && buckets.get(2)[1] == 1);
    }

    @Test
    void failoverTimesComeFromTheAnswersOfRequestsPublishedBeforeAndAfterAnInstant() {
        request("k-000001", "{\"id\":\"k-000001\",\"imageUri\":\"file:///a.jpg\"}", 0, 0, 1_000);
        request("k-000002", "{\"id\":\"k-000002\",\"imageUri\":\"file:///b.jpg\"}", 0, 1, 2_000);
        request("k-000003", "{\"id\":\"k-000003\",\"imageUri\":\"file:///c.jpg\"}", 0, 2, 3_000);
        assertEquals(-1, ledger.firstAnswerPublishedAfter(1_500));
        result("k-000003", ok("k-000003", 0, 2), 7_000);
        result("k-000001", ok("k-000001", 0, 0), 8_000);
        assertEquals(-1, ledger.allAnsweredPublishedBefore(2_500), "k-000002 has no answer yet");
        assertEquals(8_000, ledger.allAnsweredPublishedBefore(1_500));
        result("k-000002", ok("k-000002", 0, 1), 9_000);
        result("k-000001", ok("k-000001", 0, 0), 9_500);  // a duplicate does not move the answer
        assertEquals(9_000, ledger.allAnsweredPublishedBefore(2_500));
        assertEquals(7_000, ledger.firstAnswerPublishedAfter(1_500), "k-000003 (published at 3 s) answered first");
        assertEquals(-1, ledger.firstAnswerPublishedAfter(3_000));
    }

    private void request(String key, String json, int partition, long offset, long timestampMs) {
        ledger.addRequest(key.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8), partition, offset,
                timestampMs);
    }

    private void result(String key, String json, long timestampMs) {
        ledger.addResult(key == null ? null : key.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8), 0,
                resultOffset++, timestampMs);
    }

    private static String ok(String id, int partition, long offset) {
        return "{\"id\":\"" + id + "\",\"status\":\"OK\",\"workerId\":\"w0\",\"source\":{\"topic\":\"t\",\"partition\":"
                + partition + ",\"offset\":" + offset + "}}";
    }

    private static String error(String id, int partition, long offset, String code) {
        return "{\"id\":\"" + id + "\",\"status\":\"ERROR\",\"workerId\":\"w0\",\"error\":{\"code\":\"" + code
                + "\",\"message\":\"m\"},\"source\":{\"topic\":\"t\",\"partition\":" + partition + ",\"offset\":" + offset + "}}";
    }
}
