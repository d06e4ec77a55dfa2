package io.inferencefleet.messages;

import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * What a user publishes to the input topic (JSON, see {@link MessageCodec}):
 * <pre>{@code {"v":1, "id":"req-42", "imageUri":"file:///data/cat.jpg", "topK":5,
 *  "deadlineMs":1764230000000, "attributes":{"camera":"7"}}}</pre>
 * {@code id} (at most {@value #MAX_ID_BYTES} bytes of UTF-8) and {@code imageUri} are required; {@code topK} (1..1000), {@code deadlineMs} (epoch
 * milliseconds after which the result is EXPIRED instead of computed) and {@code attributes}
 * (free-form strings, echoed on the result) are optional.
 */
public record InferenceRequest(String id, String imageUri, Integer topK, Long deadlineMs,
                               Map<String, String> attributes) {
    /**
     * Longest request id, in UTF-8 bytes (not characters: the worker carries the id in a fixed-size
     * field of its shared-memory records, which is sized from this value).
     */
    public static final int MAX_ID_BYTES = 256;
    public static final int MAX_TOP_K = 1000;

    public InferenceRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(imageUri, "imageUri");
        attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    }

    public static InferenceRequest of(String id, String imageUri) {
        return new InferenceRequest(id, imageUri, null, null, Map.of());
    }

    public InferenceRequest withTopK(int topK) {
        return new InferenceRequest(id, imageUri, topK, deadlineMs, attributes);
    }

    public InferenceRequest withDeadlineMs(long deadlineMs) {
        return new InferenceRequest(id, imageUri, topK, deadlineMs, attributes);
    }

    public InferenceRequest withAttributes(Map<String, String> attributes) {
        return new InferenceRequest(id, imageUri, topK, deadlineMs, attributes);
    }

    public OptionalInt topKIfSet() {
        return topK == null ? OptionalInt.empty() : OptionalInt.of(topK);
    }
}
