package io.inferencefleet.shm;

/** Hard limits of the transport, fixed by the on-disk layout. */
public final class TensorQueueLimits {
    private TensorQueueLimits() {}

    /** Chronicle block size we map with; its overlap (a quarter) bounds a contiguous tensor. */
    public static final long BLOCK_SIZE_BYTES = 64L * 1024 * 1024;
    /** Largest tensor: must lie inside one mapping's overlap to be contiguous. */
    public static final int MAX_TENSOR_BYTES = 8 * 1024 * 1024;
    /** Most dimensions a shape may have. */
    public static final int MAX_RANK = 8;
    /** Most configured readers per queue. */
    public static final int MAX_READERS = 16;
    /** Alignment of every tensor address. */
    public static final int TENSOR_ALIGNMENT = 64;
}
