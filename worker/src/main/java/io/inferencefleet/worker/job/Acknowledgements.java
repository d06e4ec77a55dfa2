package io.inferencefleet.worker.job;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * From the results publisher (Kafka's producer threads) to the intake thread: the jobs whose every
 * record the broker acknowledged, whose offsets may therefore be committed, and the first fatal
 * write failure, after which nothing more may be committed. Thread-safe; one consumer (the intake).
 */
public final class Acknowledgements {
    private final Queue<Job> acknowledged = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();

    public void acknowledged(Job job) {
        acknowledged.offer(job);
    }

    /** The next acknowledged job, or null. */
    public Job poll() {
        return acknowledged.poll();
    }

    /** Records the first fatal failure; later ones are dropped (the first is what stops the worker). */
    public void fatal(Throwable failure) {
        fatal.compareAndSet(null, failure);
    }

    /** The first fatal failure, or null. */
    public Throwable fatal() {
        return fatal.get();
    }
}
