package io.inferencefleet.worker.lane;

import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.shm.TensorQueueConfig;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.publish.ResultFactory;
import io.inferencefleet.worker.publish.ResultPublisher;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.ErrorHandler;

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

    /**
     * An idle predictor backs off to parks of this length. With the transport's 10 µs default, an idle
     * predictor thread used about 20 % of a core polling (measured at 0.5 req/s on 2 vCPUs): CPU that
     * the busy predictor and the decoders need. 1 ms is under 1 % of one ResNet-50 inference.
     */
    static final long PREDICTOR_MAX_PARK_NS = 1_000_000;

    DecoderLane(int index, String workerId, Path shmDir, int jobCapacity, Map<Long, Job> registry,
                PreprocessConfig preprocess, ImageFetcher fetcher, ResultFactory results, ResultPublisher publisher,
                ErrorHandler errors) {
        this.index = index;
        this.jobs = new OneToOneConcurrentArrayQueue<>(jobCapacity);
        this.queue = TensorQueue.open(TensorQueueConfig.builder()
                .workerId(workerId + "-lane" + index)
                .directory(shmDir.resolve("lane-" + index))
                .capacityTensors(8)
                .maxTensorBytes(preprocess.tensorBytes())
                .readerNames(PredictorAgent.READER)
                .idleParkNs(PREDICTOR_MAX_PARK_NS)
                .build());
        DecoderAgent decoder = new DecoderAgent(index, jobs, queued, queue.writer(), registry, preprocess, fetcher,
                results, publisher);
        this.runner = new AgentRunner(new BackoffIdleStrategy(100, 10, 1_000, 1_000_000), errors, null, decoder);
    }

    public int index() {
        return index;
    }

    /** Hands a job to this lane; false if its queue is full (never with capacity >= max in flight). */
    public boolean offer(Job job) {
        job.lane = this;
        pending.incrementAndGet();
        if (jobs.offer(job)) {
            queued.incrementAndGet();
            return true;
        }
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

    /** Called once a job of this lane has been answered (result handed to the publisher). */
    void finished() {
        pending.decrementAndGet();
    }

    /** Jobs waiting for the decoder. */
    public int queuedJobs() {
        return queued.get();
    }

    TensorReader reader() {
        return queue.reader(PredictorAgent.READER);
    }

    IdleStrategy readerIdleStrategy() {
        return queue.newReaderIdleStrategy();
    }

    void start() {
        AgentRunner.startOnThread(runner);
    }

    void stopDecoder() {
        runner.close();
    }

    void closeQueue() {
        queue.close();
    }
}
