package io.inferencefleet.shm;

/** Receives one tensor; the view is valid only until this method returns. */
@FunctionalInterface
public interface TensorHandler {
    void onTensor(TensorView tensor);
}
