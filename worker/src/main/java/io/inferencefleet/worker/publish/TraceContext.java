package io.inferencefleet.worker.publish;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The W3C Trace Context of a result (spec: w3c/trace-context, {@code spec/20-http_request_header_format.md}
 * and {@code spec/30-processing-model.md}): the worker's handling of a request is a span, child of the
 * request's. For each request header set:
 * <ul>
 *   <li><b>a valid {@code traceparent}</b>: the result's is {@code 00-<same trace-id>-<new span id>-<flags>},
 *       the span id 8 random bytes (never all zero), the flags those the spec defines (sampled 0x01,
 *       random-trace-id 0x02) kept and the reserved ones set to zero, as the spec requires; every
 *       {@code tracestate} header is carried over, several combined with "," (RFC 9110 field order).
 *       A higher version is parsed by the spec's rules for future versions and answered as version 00.</li>
 *   <li><b>an invalid one</b> (version not two lowercase hex digits or {@code ff}, wrong length, a
 *       non-hex or upper-case character, an all-zero trace-id or parent-id, two traceparent headers):
 *       the trace is <b>restarted</b>, as the processing model prescribes ("the vendor creates a new
 *       traceparent header and deletes tracestate"): a new random trace-id and span id, flags 02
 *       (random-trace-id set, as the spec says a random id SHOULD; sampled unset: the worker records
 *       no trace data), no {@code tracestate}.</li>
 *   <li><b>none</b>: none on the result, and a lone {@code tracestate} is dropped (the spec calls it
 *       invalid). The spec says a vendor SHOULD start a trace here; the worker does not, because it
 *       records no spans itself, so a trace it started would correlate nothing and only cost bytes.</li>
 * </ul>
 * Thread-safe.
 */
final class TraceContext {
    static final String TRACEPARENT = "traceparent";
    static final String TRACESTATE = "tracestate";
    /** The flags the spec defines: sampled (0x01) and random-trace-id (0x02); "other flags ... MUST set those to zero". */
    static final int KNOWN_FLAGS = 0x03;
    static final int RANDOM_TRACE_ID = 0x02;
    private static final Pattern VERSION = Pattern.compile("[0-9a-f]{2}");
    /** Version 00's format, also the first 55 characters of any later version. */
    private static final Pattern V00 = Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
    private static final int V00_LENGTH = 55;
    private static final HexFormat HEX = HexFormat.of();

    private final Random random;

    TraceContext() {
        this(new SecureRandom());
    }

    /** With the caller's source of randomness (tests). */
    TraceContext(Random random) {
        this.random = random;
    }

    /** The {@code traceparent} and {@code tracestate} headers of the result to a request with {@code request}'s headers. */
    List<Header> forResult(Headers request) {
        List<Header> out = new ArrayList<>(2);
        if (request == null) {
            return out;
        }
        List<byte[]> parents = new ArrayList<>();
        request.headers(TRACEPARENT).forEach(h -> parents.add(h.value()));
        if (parents.isEmpty()) {
            return out;
        }
        String parent = parents.size() == 1 && parents.get(0) != null
                ? new String(parents.get(0), StandardCharsets.ISO_8859_1) : "";
        if (!valid(parent)) {
            out.add(traceparent(HEX.formatHex(nonZero(16)), RANDOM_TRACE_ID));
            return out;
        }
        int flags = HEX.fromHexDigits(parent, 53, 55) & KNOWN_FLAGS;
        out.add(traceparent(parent.substring(3, 35), flags));
        StringBuilder state = new StringBuilder();
        for (Header h : request.headers(TRACESTATE)) {
            if (h.value() != null) {
                state.append(state.length() == 0 ? "" : ",").append(new String(h.value(), StandardCharsets.UTF_8));
            }
        }
        if (state.length() > 0) {
            out.add(new RecordHeader(TRACESTATE, state.toString().getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** Whether {@code value} is a traceparent this worker may continue (version 00 exactly, or a later one by the spec's rules). */
    static boolean valid(String value) {
        if (value.length() < V00_LENGTH || !VERSION.matcher(value.substring(0, 2)).matches() || value.startsWith("ff")) {
            return false;
        }
        if (value.startsWith("00") ? value.length() != V00_LENGTH
                : value.length() > V00_LENGTH && value.charAt(V00_LENGTH) != '-') {
            return false;
        }
        String head = value.substring(0, V00_LENGTH);
        return V00.matcher(head).matches() && !allZero(head.substring(3, 35)) && !allZero(head.substring(36, 52));
    }

    private Header traceparent(String traceId, int flags) {
        String value = "00-" + traceId + "-" + HEX.formatHex(nonZero(8)) + "-" + HEX.toHexDigits((byte) flags);
        return new RecordHeader(TRACEPARENT, value.getBytes(StandardCharsets.US_ASCII));
    }

    private byte[] nonZero(int bytes) {
        byte[] id = new byte[bytes];
        do {
            random.nextBytes(id);
        } while (allZero(HEX.formatHex(id)));
        return id;
    }

    private static boolean allZero(String hex) {
        return hex.chars().allMatch(c -> c == '0');
    }
}
