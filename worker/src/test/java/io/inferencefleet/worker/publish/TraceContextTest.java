package io.inferencefleet.worker.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** W3C Trace Context on results: a child span of a valid traceparent, a restarted trace for an invalid one. */
class TraceContextTest {
    private static final String TRACE = "0af7651916cd43dd8448eb211c80319c";
    private static final String PARENT = "b7ad6b7169203331";
    private final TraceContext context = new TraceContext(new Random(14));

    private List<Header> result(String... headers) {
        RecordHeaders request = new RecordHeaders();
        for (int i = 0; i < headers.length; i += 2) {
            request.add(headers[i], headers[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return context.forResult(request);
    }

    private static String value(List<Header> headers, String key) {
        return headers.stream().filter(h -> h.key().equals(key)).map(h -> new String(h.value(), StandardCharsets.UTF_8))
                .reduce((a, b) -> a + "|" + b).orElse(null);
    }

    @Test
    void aValidTraceparentIsContinuedAsAChildSpanWithItsTracestate() {
        List<Header> out = result("traceparent", "00-" + TRACE + "-" + PARENT + "-01", "tracestate", "congo=t61rcWkgMzE");
        String child = value(out, "traceparent");
        assertTrue(child.matches("00-" + TRACE + "-[0-9a-f]{16}-01"), child);
        String span = child.substring(36, 52);
        assertNotEquals(PARENT, span);
        assertNotEquals("0000000000000000", span);
        assertEquals("congo=t61rcWkgMzE", value(out, "tracestate"));
        assertEquals(2, out.size());

        String other = value(result("traceparent", "00-" + TRACE + "-" + PARENT + "-01"), "traceparent");
        assertNotEquals(span, other.substring(36, 52), "a new span id per result");
    }

    @Test
    void definedFlagsAreKeptReservedOnesZeroedAndSeveralTracestatesCombined() {
        assertTrue(value(result("traceparent", "00-" + TRACE + "-" + PARENT + "-00"), "traceparent").endsWith("-00"));
        assertTrue(value(result("traceparent", "00-" + TRACE + "-" + PARENT + "-03"), "traceparent").endsWith("-03"));
        assertTrue(value(result("traceparent", "00-" + TRACE + "-" + PARENT + "-ff"), "traceparent").endsWith("-03"));
        assertEquals("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", value(result("traceparent", "00-" + TRACE + "-" + PARENT
                + "-01", "tracestate", "rojo=00f067aa0ba902b7", "tracestate", "congo=t61rcWkgMzE"), "tracestate"));
    }

    @Test
    void aHigherVersionIsParsedByTheSpecsRulesAndAnsweredAsVersion00() {
        String future = "cc-" + TRACE + "-" + PARENT + "-01-what-the-future-will-be-like";
        assertTrue(value(result("traceparent", future), "traceparent").matches("00-" + TRACE + "-[0-9a-f]{16}-01"));
        assertTrue(TraceContext.valid("cc-" + TRACE + "-" + PARENT + "-01"));
        assertFalse(TraceContext.valid("cc-" + TRACE + "-" + PARENT + "-01x"), "a field after the flags needs a dash");
    }

    @Test
    void anInvalidTraceparentRestartsTheTraceAndDropsTracestate() {
        List<String> invalid = List.of(
                "ff-" + TRACE + "-" + PARENT + "-01",                       // version ff is forbidden
                "0-" + TRACE + "-" + PARENT + "-01",                        // version not two hex digits
                "00-00000000000000000000000000000000-" + PARENT + "-01",    // all-zero trace-id
                "00-" + TRACE + "-0000000000000000-01",                     // all-zero parent-id
                "00-" + TRACE.toUpperCase() + "-" + PARENT + "-01",         // upper-case hex
                "00-" + TRACE + "-" + PARENT + "-01-extra",                 // version 00 is exactly 55 characters
                "00-" + TRACE.substring(1) + "-" + PARENT + "-01",          // bad length
                "00-" + TRACE + "-" + PARENT + "-1",
                "00_" + TRACE + "_" + PARENT + "_01",
                "",
                "x".repeat(2 << 10));
        for (String parent : invalid) {
            List<Header> out = result("traceparent", parent, "tracestate", "congo=t61rcWkgMzE");
            String restarted = value(out, "traceparent");
            assertTrue(restarted.matches("00-[0-9a-f]{32}-[0-9a-f]{16}-02"), parent + " -> " + restarted);
            assertFalse(restarted.contains(TRACE), parent + " -> " + restarted);
            assertFalse(restarted.substring(3, 35).matches("0+"), restarted);
            assertEquals(null, value(out, "tracestate"), "tracestate dropped with an invalid traceparent: " + parent);
        }
        String twice = value(result("traceparent", "00-" + TRACE + "-" + PARENT + "-01",
                "traceparent", "00-" + TRACE + "-" + PARENT + "-01"), "traceparent");
        assertFalse(twice.contains(TRACE), "two traceparent headers are not one trace: " + twice);
    }

    @Test
    void withoutTraceparentNothingIsAddedAndALoneTracestateIsDropped() {
        assertEquals(List.of(), result());
        assertEquals(List.of(), result("tracestate", "congo=t61rcWkgMzE", "correlation-id", "c"));
        assertEquals(List.of(), context.forResult(null));
    }

    @Test
    void anAllZeroRandomSpanIdIsDrawnAgain() {
        Random zerosFirst = new Random() {
            private int calls;

            @Override
            public void nextBytes(byte[] bytes) {
                Arrays.fill(bytes, calls++ == 0 ? 0 : (byte) 0x5a);
            }
        };
        RecordHeaders request = new RecordHeaders();
        request.add("traceparent", ("00-" + TRACE + "-" + PARENT + "-01").getBytes(StandardCharsets.US_ASCII));
        assertEquals("00-" + TRACE + "-5a5a5a5a5a5a5a5a-01", value(new TraceContext(zerosFirst).forResult(request),
                "traceparent"));
    }
}
