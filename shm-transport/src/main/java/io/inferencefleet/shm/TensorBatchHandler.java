package io.inferencefleet.shm;

/** Receives a run of tensors; every view is valid only until this method returns. */
@FunctionalInterface
public interface TensorBatchHandler {
    void onBatch(TensorBatch batch);
}
