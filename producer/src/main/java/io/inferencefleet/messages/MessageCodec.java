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
    /** The error code of a record that is not a valid request. */
    public static final String BAD_REQUEST = "bad_request";

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
        if (id.length() > InferenceRequest.MAX_ID_LENGTH) {
            return invalid("'id' is " + id.length() + " characters, at most " + InferenceRequest.MAX_ID_LENGTH
                    + " allowed", id.substring(0, InferenceRequest.MAX_ID_LENGTH));
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
