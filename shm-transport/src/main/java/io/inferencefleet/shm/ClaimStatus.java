package io.inferencefleet.shm;

/**
 * Outcomes of {@link TensorWriter#tryClaim}. Hot paths return these codes instead of throwing:
 * a full queue is normal operation.
 */
public final class ClaimStatus {
    private ClaimStatus() {}

    /** The claim is open: fill it, then commit or abort. */
    public static final int OK = 0;
    /** The slowest reader is {@code capacityBytes}/{@code capacityTensors} behind; retry later. */
    public static final int BACK_PRESSURED = -1;
    /** The queue was closed. */
    public static final int CLOSED = -2;

    public static String name(int status) {
        return switch (status) {
            case OK -> "OK";
            case BACK_PRESSURED -> "BACK_PRESSURED";
            case CLOSED -> "CLOSED";
            default -> "UNKNOWN(" + status + ")";
        };
    }
}
