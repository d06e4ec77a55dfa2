package io.inferencefleet.worker.config;

/**
 * How a predictor batches: it takes up to {@code maxTensors} tensors that are already waiting in one
 * of its lanes and runs them as one NCHW batch; when it found at least two (a backlog) and fewer than
 * {@code maxTensors}, it waits up to {@code delayNanos} for more. A lone tensor runs at once, in place,
 * so latency at low load does not change. {@code maxTensors = 1} turns batching off.
 */
public record BatchPlan(int maxTensors, long delayNanos) {
    /** Upper bound of {@code predictor.batch.max}: the batch buffer holds this many tensors per predictor. */
    public static final int MAX_MAX_TENSORS = 64;
    public static final BatchPlan OFF = new BatchPlan(1, 0);

    public BatchPlan {
        if (maxTensors < 1 || maxTensors > MAX_MAX_TENSORS || delayNanos < 0) {
            throw new IllegalArgumentException("Invalid batch plan: " + maxTensors + " tensors, " + delayNanos + " ns");
        }
    }

    public boolean enabled() {
        return maxTensors > 1;
    }
}
