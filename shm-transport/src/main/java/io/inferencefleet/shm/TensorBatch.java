package io.inferencefleet.shm;

/**
 * A run of consecutive committed tensors, all valid at once until the batch handler returns, e.g.
 * to hand several addresses to one predictor call. Views are reused by the next batch.
 */
public interface TensorBatch {
    int size();

    TensorView get(int i);
}
