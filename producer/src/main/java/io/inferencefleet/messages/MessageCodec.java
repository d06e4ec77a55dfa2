package io.inferencefleet.messages;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * JSON encoding of {@link InferenceRequest} and {@link InferenceResult}, version {@value #VERSION}
 * (field {@code "v"}; absent means 1). Unknown fields are ignored so that newer producers and
 * older workers (and the reverse) interoperate. Decoding a request never throws: a record that is
 * not a valid request becomes a {@link DecodedRequest} with an error the worker turns into an
 * ERROR result ({@code bad_request}). Thread-safe.
 */
public final class MessageCodec {
    public static final int VERSION = 1;

    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    /** Either a request or the reason the bytes are not one (never both). */
    public record DecodedRequest(InferenceRequest request, String error, String id) {
        public boolean ok() {
            return request != null;
        }
    }

    public byte[] encode(InferenceRequest request) {
        ObjectNode node = json.createObjectNode();
        node.put("v", VERSION);
        node.put("id", request.id());
        node.put("imageUri", request.imageUri());
        if (request.topK() != null) {
            node.put("topK", request.topK());
        }
        if (request.deadlineMs() != null) {
            node.put("deadlineMs", request.deadlineMs());
        }
        if (!request.attributes().isEmpty()) {
            node.set("attributes", json.valueToTree(request.attributes()));
        }
        return write(node);
    }

    /**
     * Decodes and validates a request. On failure, {@link DecodedRequest#id()} still carries the id
     * when one could be read, so that the error result can be correlated.
     */
    public DecodedRequest decodeRequest(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return invalid("empty record value", null);
        }
        JsonNode node;
        try {
            node = json.readTree(bytes);
        } catch (JsonProcessingException e) {
            return invalid("not JSON: " + e.getOriginalMessage(), null);
        } catch (IOException e) {
            return invalid("unreadable: " + e.getMessage(), null);
        }
        if (node == null || !node.isObject()) {
            return invalid("expected a JSON object with id and imageUri", null);
        }
        String id = node.path("id").isTextual() ? node.path("id").asText() : null;
        int version = node.path("v").asInt(1);
        if (version != VERSION) {
            return invalid("unsupported message version v=" + node.path("v") + " (this worker reads v=1)", id);
        }
        if (id == null || id.isBlank()) {
            return invalid("missing or empty string field 'id'", null);
        }
        int idBytes = utf8Length(id);
        if (idBytes > InferenceRequest.MAX_ID_BYTES) {
            return invalid("'id' is " + idBytes + " bytes of UTF-8 (" + id.length() + " characters), at most "
                    + InferenceRequest.MAX_ID_BYTES + " bytes allowed", truncateUtf8(id, InferenceRequest.MAX_ID_BYTES));
        }
        JsonNode uri = node.path("imageUri");
        if (!uri.isTextual() || uri.asText().isBlank()) {
            return invalid("missing or empty string field 'imageUri'", id);
        }
        Integer topK = null;
        if (node.hasNonNull("topK")) {
            JsonNode k = node.get("topK");
            if (!k.canConvertToInt() || !k.isIntegralNumber() || k.asInt() < 1 || k.asInt() > InferenceRequest.MAX_TOP_K) {
                return invalid("Invalid value " + k + " for topK: must be an integer 1.." + InferenceRequest.MAX_TOP_K, id);
            }
            topK = k.asInt();
        }
        Long deadline = null;
        if (node.hasNonNull("deadlineMs")) {
            JsonNode d = node.get("deadlineMs");
            if (!d.isIntegralNumber() || d.asLong() <= 0) {
                return invalid("Invalid value " + d + " for deadlineMs: must be epoch milliseconds", id);
            }
            deadline = d.asLong();
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        JsonNode attrs = node.path("attributes");
        if (!attrs.isMissingNode() && !attrs.isNull()) {
            if (!attrs.isObject()) {
                return invalid("Invalid value " + attrs + " for attributes: must be an object of strings", id);
            }
            attrs.fields().forEachRemaining(e -> attributes.put(e.getKey(), e.getValue().isTextual()
                    ? e.getValue().asText() : e.getValue().toString()));
        }
        return new DecodedRequest(new InferenceRequest(id, uri.asText(), topK, deadline, attributes), null, id);
    }

    /** UTF-8 length of {@code s} as {@code getBytes(UTF_8)} would give it, without encoding it. */
    static int utf8Length(CharSequence s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1;  // unpaired: the JDK's UTF-8 encoder writes '?'
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** The longest prefix of {@code s} that fits {@code maxBytes} of UTF-8, never splitting a surrogate pair. */
    static String truncateUtf8(String s, int maxBytes) {
        int bytes = 0;
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? (Character.isSurrogate((char) cp) ? 1 : 3) : 4;
            if (bytes + n > maxBytes) {
                break;
            }
            bytes += n;
            i += Character.charCount(cp);
        }
        return s.substring(0, i);
    }

    public byte[] encode(InferenceResult result) {
        ObjectNode node = json.valueToTree(result);
        ObjectNode versioned = json.createObjectNode();
        versioned.put("v", VERSION);
        versioned.setAll(node);
        if (result.predictions().isEmpty()) {
            versioned.remove("predictions");
        }
        if (result.attributes().isEmpty()) {
            versioned.remove("attributes");
        }
        return write(versioned);
    }

    /** Decodes a result (for clients); throws {@link IllegalArgumentException} naming the problem. */
    public InferenceResult decodeResult(byte[] bytes) {
        try {
            JsonNode node = json.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("result is not a JSON object");
            }
            if (node.path("v").asInt(1) != VERSION) {
                throw new IllegalArgumentException("unsupported result version v=" + node.path("v"));
            }
            ((ObjectNode) node).remove("v");
            return json.treeToValue(node, InferenceResult.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a valid result: " + e.getMessage(), e);
        }
    }

    private byte[] write(JsonNode node) {
        try {
            return json.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + node, e);
        }
    }

    private static DecodedRequest invalid(String why, String id) {
        return new DecodedRequest(null, why, id);
    }
}
