package io.inferencefleet.shm;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * An open claim on queue memory for one tensor, handed out by {@link TensorWriter#tryClaim}.
 *
 * <p>Ownership: between a successful {@code tryClaim} and {@link #commit()} / {@link #abort()} the
 * writer thread owns {@code [address(), address() + lengthBytes())}; it is 64-byte aligned,
 * contiguous, and lies in shared memory, so preprocessing writes the tensor there directly and no
 * one copies it afterwards. After commit or abort the address must not be touched again: the same
 * object is reused by the next claim. Metadata setters may be called any time before commit.
 * The claim holds the queue's write lock, so fill promptly and always finish it in a
 * {@code finally}.
 */
public interface TensorClaim {
    /** 64-byte-aligned native address of the tensor's first byte. */
    long address();

    /** Bytes claimed for the tensor. */
    int lengthBytes();

    /** A view over the tensor (reused; valid like {@link #address()}). */
    UnsafeBuffer buffer();

    /** UTF-8 request key; at most {@code maxRequestKeyBytes}. */
    TensorClaim requestKey(CharSequence key);

    TensorClaim source(int partition, long offset);

    TensorClaim shape(int... dims);

    TensorClaim dtype(DType dtype);

    /** Publishes the tensor to readers, stamping its enqueue time. */
    void commit();

    /** Discards the claim: readers skip it and it counts for nothing. Harmless after commit or abort. */
    void abort();

    /** True between a successful claim and its commit/abort. */
    boolean isOpen();
}
