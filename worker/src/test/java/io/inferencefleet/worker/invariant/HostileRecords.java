package io.inferencefleet.worker.invariant;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Generated input records for the invariant suite: what a careless or hostile producer can put on
 * the input topic. Requests with ids of every length and script (surrogates, controls, 0..300
 * bytes), missing, extra, huge and wrongly typed fields, deep nesting, non-UTF-8 bytes, huge and many
 * headers, records near the broker's size limit, and image URIs that lead to every kind of bad image
 * ({@link HostileImages}) or to nothing at all.
 */
final class HostileRecords {
    /** One record to publish: key, value and headers (each may be null or empty), and what it is. */
    record Hostile(byte[] key, byte[] value, List<Header> headers, String kind) {
        @Override
        public String toString() {
            return kind + "(" + (value == null ? "null" : value.length + " bytes") + ")";
        }
    }

    private final List<String> imageUris;

    HostileRecords(List<Path> images) {
        List<String> uris = new ArrayList<>();
        images.forEach(p -> uris.add(p.toUri().toString()));
        uris.add("file:///etc/passwd");
        uris.add("file:///nonexistent/cat.jpg");
        uris.add("http://169.254.169.254/latest/meta-data/");
        uris.add("ftp://example.com/x.jpg");
        uris.add("not a uri at all \u0000");
        uris.add("");
        this.imageUris = List.copyOf(uris);
    }

    Arbitrary<Hostile> records() {
        return Arbitraries.frequencyOf(
                Tuple(30, validRequests()),
                Tuple(8, wrongFields()),
                Tuple(4, deepNesting()),
                Tuple(6, randomBytes()),
                Tuple(3, invalidUtf8()),
                Tuple(3, hugeHeaders()),
                Tuple(1, nearTheSizeLimit()),
                Tuple(2, Arbitraries.of(new Hostile(null, null, List.of(), "null-value"),
                        new Hostile(new byte[0], new byte[0], List.of(), "empty-value"))));
    }

    private static net.jqwik.api.Tuple.Tuple2<Integer, Arbitrary<? extends Hostile>> Tuple(int weight,
                                                                                           Arbitrary<? extends Hostile> a) {
        return net.jqwik.api.Tuple.of(weight, a);
    }

    /** Ids of every script and length, including empty, over-long, control characters and lone surrogates. */
    static Arbitrary<String> ids() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ascii().ofMinLength(0).ofMaxLength(300),
                Arbitraries.strings().withCharRange('\u4e00', '\u9fff').ofMinLength(1).ofMaxLength(100),
                Arbitraries.strings().all().ofMinLength(1).ofMaxLength(140),
                Arbitraries.strings().withChars("\uD83D\uDE00\uD800\uDFFF\u0000\u001F\"\\").ofMinLength(1).ofMaxLength(130));
    }

    private Arbitrary<Hostile> validRequests() {
        Arbitrary<String> uri = Arbitraries.of(imageUris);
        Arbitrary<Map<String, String>> attributes = Arbitraries.maps(Arbitraries.strings().ofMaxLength(20),
                Arbitraries.strings().ofMaxLength(200)).ofMaxSize(5);
        Arbitrary<Integer> topK = Arbitraries.integers().between(-5, 1_500).injectNull(0.5);
        Arbitrary<Long> deadline = Arbitraries.longs().between(-1, 4_000_000_000_000L).injectNull(0.8);
        return Combinators.combine(ids(), uri, topK, deadline, attributes).as((id, u, k, d, attrs) -> {
            StringBuilder json = new StringBuilder("{\"v\":1,\"id\":").append(jsonString(id))
                    .append(",\"imageUri\":").append(jsonString(u));
            if (k != null) {
                json.append(",\"topK\":").append(k);
            }
            if (d != null) {
                json.append(",\"deadlineMs\":").append(d);
            }
            if (!attrs.isEmpty()) {
                json.append(",\"attributes\":{");
                attrs.forEach((key, value) -> json.append(jsonString(key)).append(':').append(jsonString(value)).append(','));
                json.setLength(json.length() - 1);
                json.append('}');
            }
            json.append('}');
            return new Hostile(id.getBytes(StandardCharsets.UTF_8), json.toString().getBytes(StandardCharsets.UTF_8),
                    List.of(), "request");
        });
    }

    private Arbitrary<Hostile> wrongFields() {
        Arbitrary<String> value = Arbitraries.of("null", "1", "-1.5e308", "true", "[]", "{}", "[1,2,3]", "\"\"",
                "\"x\"", "{\"a\":{\"b\":1}}", "9223372036854775808", "1e99999");
        Arbitrary<String> field = Arbitraries.of("v", "id", "imageUri", "topK", "deadlineMs", "attributes", "extra", "");
        return Combinators.combine(field.list().ofMaxSize(8), value.list().ofSize(8)).as((fields, values) -> {
            StringBuilder json = new StringBuilder("{");
            for (int i = 0; i < fields.size(); i++) {
                json.append(jsonString(fields.get(i))).append(':').append(values.get(i)).append(',');
            }
            if (json.length() > 1) {
                json.setLength(json.length() - 1);
            }
            json.append('}');
            return new Hostile(null, json.toString().getBytes(StandardCharsets.UTF_8), List.of(), "wrong-fields");
        });
    }

    private Arbitrary<Hostile> deepNesting() {
        return Arbitraries.integers().between(100, 20_000).map(depth -> {
            String json = "{\"id\":\"deep\",\"imageUri\":\"file:///x.jpg\",\"attributes\":{\"a\":" + "[".repeat(depth)
                    + "]".repeat(depth) + "}}";
            return new Hostile(null, json.getBytes(StandardCharsets.UTF_8), List.of(), "deep-" + depth);
        });
    }

    private Arbitrary<Hostile> randomBytes() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(4_000)
                .map(b -> new Hostile(b, b, List.of(), "random-bytes"));
    }

    private Arbitrary<Hostile> invalidUtf8() {
        return Arbitraries.of(new byte[] {(byte) 0xC3}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                new byte[] {(byte) 0xFF, (byte) 0xFE}, new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80})
                .map(bad -> {
                    byte[] head = "{\"id\":\"".getBytes(StandardCharsets.US_ASCII);
                    byte[] tail = "\",\"imageUri\":\"file:///x.jpg\"}".getBytes(StandardCharsets.US_ASCII);
                    byte[] value = new byte[head.length + bad.length + tail.length];
                    System.arraycopy(head, 0, value, 0, head.length);
                    System.arraycopy(bad, 0, value, head.length, bad.length);
                    System.arraycopy(tail, 0, value, head.length + bad.length, tail.length);
                    return new Hostile(bad, value, List.of(), "invalid-utf8");
                });
    }

    private Arbitrary<Hostile> hugeHeaders() {
        return Combinators.combine(Arbitraries.integers().between(1, 200), Arbitraries.integers().between(0, 100_000),
                Arbitraries.of(imageUris)).as((count, size, uri) -> {
                    List<Header> headers = new ArrayList<>();
                    byte[] big = new byte[size / count];
                    for (int i = 0; i < count; i++) {
                        headers.add(new RecordHeader(i % 2 == 0 ? "traceparent" : "h" + i, big));
                    }
                    String json = "{\"id\":\"headers\",\"imageUri\":" + jsonString(uri) + "}";
                    return new Hostile(null, json.getBytes(StandardCharsets.UTF_8), headers, "headers-" + count + "x" + big.length);
                });
    }

    /**
     * Just under the broker's default message.max.bytes (1 MiB): accepted, but its result, echoing the
     * attributes and adding the worker's fields, is over the producer's max.request.size.
     */
    private Arbitrary<Hostile> nearTheSizeLimit() {
        return Arbitraries.integers().between(1_048_200, 1_048_350).map(size -> {
            String json = "{\"id\":\"big\",\"imageUri\":" + jsonString(imageUris.get(0)) + ",\"attributes\":{\"blob\":\""
                    + "\u00e9".repeat(size / 2) + "\"}}";
            return new Hostile(null, json.getBytes(StandardCharsets.UTF_8), List.of(), "near-limit-" + size);
        });
    }

    /** A JSON string literal: quotes, backslashes and controls escaped, lone surrogates kept as \\u escapes. */
    static String jsonString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || Character.isSurrogate(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
