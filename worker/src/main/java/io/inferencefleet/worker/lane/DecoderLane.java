package io.inferencefleet.worker.lane;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.shm.TensorQueueConfig;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.job.Answers;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * One decoder thread with its own job queue (fed by the intake) and its own shared-memory tensor
 * queue (read by exactly one predictor). A queue has a single writer, so each decoder owns one.
 */
public final class DecoderLane {
    private final int index;
    private final OneToOneConcurrentArrayQueue<Job> jobs;
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final TensorQueue queue;
    private final AgentRunner runner;

    DecoderLane(int index, String workerId, Path shmDir, int jobCapacity, Map<Long, Job> registry,
                PreprocessConfig preprocess, ImageFetcher fetcher, Answers answers, EpochClock clock,
                WorkerMetrics metrics, ErrorHandler errors) {
        this.index = index;
        this.jobs = new OneToOneConcurrentArrayQueue<>(jobCapacity);
        this.queue = TensorQueue.open(queueConfig(workerId + "-lane" + index, shmDir.resolve("lane-" + index),
                preprocess.tensorBytes()).build());
        DecoderAgent decoder = new DecoderAgent(index, jobs, queued, queue.writer(), registry, preprocess, fetcher,
                answers, clock, metrics);
        this.runner = new AgentRunner(new BackoffIdleStrategy(100, 10, 1_000, 1_000_000), errors, null, decoder);
    }

    /** The settings of a lane's tensor queue. */
    static TensorQueueConfig.Builder queueConfig(String name, Path dir, int tensorBytes) {
        return TensorQueueConfig.builder()
                .workerId(name)
                .directory(dir)
                .capacityTensors(8)
                .maxTensorBytes(tensorBytes)
                // Derived from the request id's limit, so that every valid id fits the record.
                .maxRequestKeyBytes(InferenceRequest.MAX_ID_BYTES)
                .readerNames(PredictorAgent.READER);
    }

    public int index() {
        return index;
    }

    /** Hands a job to this lane; false if its queue is full (never with capacity >= max in flight). */
    public boolean offer(Job job) {
        pending.incrementAndGet();
        job.onAnswered(pending::decrementAndGet);
        if (jobs.offer(job)) {
            queued.incrementAndGet();
            return true;
        }
        job.onAnswered(null);
        pending.decrementAndGet();
        return false;
    }

    /**
     * Jobs handed to this lane and not yet answered: waiting for the decoder, in the tensor queue or
     * in the predictor. The intake balances on this, not on the decoder's queue alone: decoders are
     * fast and their queues mostly empty, so that would send everything to one predictor.
     */
    public int pendingJobs() {
        return pending.get();
    }

    /** Jobs waiting for the decoder. */
    public int queuedJobs() {
        return queued.get();
    }

    TensorReader reader() {
        return queue.reader(PredictorAgent.READER);
    }

    AgentRunner runner() {
        return runner;
    }

    void closeQueue() {
        queue.close();
    }
}
