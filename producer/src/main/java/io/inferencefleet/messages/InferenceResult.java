package io.inferencefleet.messages;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a worker publishes to the results topic for every accepted request, exactly one per request
 * (JSON, see {@link MessageCodec}). {@code status} says which of the optional parts are present:
 * OK has {@code predictions}; ERROR has {@code error} (a stable code plus a message); EXPIRED means
 * the deadline passed before inference.
 */
public record InferenceResult(String id, Status status, ModelRef model, List<Prediction> predictions,
                              Timings timingsMs, String workerId, Source source, ErrorInfo error,
                              Map<String, String> attributes) {

    public enum Status { OK, ERROR, EXPIRED }

    /**
     * Which model answered: its name (directory or built-in name), a version or content hash, and the
     * inference engine that ran it ({@code paddle} or {@code onnxruntime}; null when not reported).
     */
    public record ModelRef(String name, String version, String engine) {
        public ModelRef(String name, String version) {
            this(name, version, null);
        }
    }

    /** One of the top-k classes; {@code label} is null when the model has no label file. */
    public record Prediction(int classId, float score, String label) {}

    /** Milliseconds per stage; a stage that did not run is null. */
    public record Timings(Double queue, Double fetch, Double preprocess, Double inference, Double total) {}

    /** Where the request came from, so a user can find it on the input topic. */
    public record Source(String topic, int partition, long offset) {}

    /** A stable machine-readable {@code code} (e.g. {@code not_found}, {@code truncated_image}) and a message. */
    public record ErrorInfo(String code, String message) {}

    public InferenceResult {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        predictions = predictions == null ? List.of() : List.copyOf(predictions);
        attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    }
}
