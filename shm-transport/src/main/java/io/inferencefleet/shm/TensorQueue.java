package io.inferencefleet.shm;

import io.inferencefleet.shm.internal.ChronicleTensorQueue;
import java.nio.file.Path;
import org.agrona.concurrent.IdleStrategy;

/**
 * A bounded queue of tensors in shared memory (Chronicle Queue files under
 * {@link TensorQueueConfig#directory()}), written once and read in place.
 *
 * <p>One process <em>owns</em> a directory ({@link #open}): it holds an exclusive lock on
 * {@code owner.lock}, cleans up what a dead previous owner left, writes, runs housekeeping
 * (pre-faulting, deleting consumed cycles) and deletes the files on close. Other processes on the
 * node may {@link #attach} to read. Kafka, not the queue, is the source of truth: queue content
 * does not survive its owner.
 *
 * <pre>{@code
 * try (TensorQueue queue = TensorQueue.open(config)) {
 *     TensorWriter writer = queue.writer();      // decoder thread
 *     TensorReader reader = queue.reader("predictor");  // predictor thread
 *     ...
 * }
 * }</pre>
 *
 * <p>Close is idempotent; close readers and stop writer threads before closing the queue.
 */
public interface TensorQueue extends AutoCloseable {
    /** Opens the directory as its owner. Fails if a live process owns it. */
    static TensorQueue open(TensorQueueConfig config) {
        return ChronicleTensorQueue.open(config);
    }

    /** Attaches to a directory a live owner holds, to read from another process. */
    static TensorQueue attach(TensorQueueConfig config) {
        return ChronicleTensorQueue.attach(config);
    }

    /** The writer (owner only; one per queue). */
    TensorWriter writer();

    /** A reader for one of the configured reader names; one instance per name per process. */
    TensorReader reader(String name);

    /** The idle strategy readers should use when a poll returns 0 (from {@code idleParkNs}). */
    IdleStrategy newReaderIdleStrategy();

    Path directory();

    boolean isOwner();

    @Override
    void close();
}
