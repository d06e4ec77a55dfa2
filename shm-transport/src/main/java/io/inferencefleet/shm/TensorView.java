package io.inferencefleet.shm;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A committed tensor as a reader sees it, in place in shared memory. Valid only until the handler
 * it was passed to returns; the object is reused for the next tensor. To keep data longer, copy it
 * (that would be a copy; the point is to hand {@link #address()} to the predictor instead).
 */
public interface TensorView {
    /** 64-byte-aligned address of the tensor in this process. */
    long address();

    int lengthBytes();

    UnsafeBuffer buffer();

    /** Chronicle index of the record: increasing, unique per queue. */
    long index();

    String requestKey();

    int requestKeyLength();

    int sourcePartition();

    long sourceOffset();

    int rank();

    int dim(int i);

    /** A new array with the shape (allocates; use {@link #rank()}/{@link #dim(int)} on hot paths). */
    int[] shape();

    DType dtype();

    /** {@link System#nanoTime()} at commit; comparable across JVMs on one Linux node (CLOCK_MONOTONIC). */
    long enqueueTimeNs();
}
