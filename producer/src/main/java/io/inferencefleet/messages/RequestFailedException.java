package io.inferencefleet.messages;

/**
 * A request that was answered ERROR or EXPIRED, as an exception: its {@link #code()} is the result's
 * stable {@code error.code}, its message {@code "<code>: <error message>"}. Dead-letter copies name
 * this class in Spring Kafka's {@code kafka_dlt-exception-fqcn} header, so that Spring consumers see
 * one class for every failure the worker answered (the code tells them apart). It carries no stack
 * trace: the failure is the request's, not a place in the worker's code.
 */
public final class RequestFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String code;

    public RequestFailedException(String code, String message) {
        super(code + ": " + message, null, false, false);
        this.code = code;
    }

    /** The result's {@code error.code} ({@link ErrorCode#code()}). */
    public String code() {
        return code;
    }
}
