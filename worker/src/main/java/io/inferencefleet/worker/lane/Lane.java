package io.inferencefleet.worker.lane;

import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.shm.TensorQueueConfig;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.publish.ResultFactory;
import io.inferencefleet.worker.publish.ResultPublisher;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One decoder thread and one predictor thread joined by a shared-memory tensor queue:
 * jobs from the intake → {@link DecoderAgent} (fetch, preprocess into the queue) → {@link PredictorAgent}
 * (Paddle reads the tensor in place) → results. A worker runs one lane per predictor thread.
 */
public final class Lane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Lane.class);

    private final int index;
    private final OneToOneConcurrentArrayQueue<Job> jobs;
    private final TensorQueue queue;
    private final AgentRunner decoderRunner;
    private final AgentRunner predictorRunner;
    private final AtomicInteger queued = new AtomicInteger();

    /**
     * @param original the predictor whose weights this lane's clone shares; the clone is created on
     *     the predictor thread so that Paddle's math threads inherit that thread's CPUs
     */
    public Lane(int index, String workerId, Path shmDir, int jobCapacity, Predictor original,
                PreprocessConfig preprocess, ImageFetcher fetcher, ResultFactory results, ResultPublisher publisher,
                java.util.BitSet cpusOrNull, WorkerMetrics metrics) {
        this.index = index;
        this.jobs = new OneToOneConcurrentArrayQueue<>(jobCapacity);
        this.queue = TensorQueue.open(TensorQueueConfig.builder()
                .workerId(workerId + "-lane" + index)
                .directory(shmDir.resolve("lane-" + index))
                .capacityTensors(8)
                .maxTensorBytes(preprocess.tensorBytes())
                .readerNames(PredictorAgent.READER)
                .build());
        ConcurrentHashMap<Long, Job> registry = new ConcurrentHashMap<>();
        DecoderAgent decoder = new DecoderAgent(index, jobs, queued, queue.writer(), registry, preprocess, fetcher,
                results, publisher);
        PredictorAgent predictor = new PredictorAgent(index, queue.reader(PredictorAgent.READER), registry, original,
                preprocess, results, publisher, cpusOrNull, metrics);
        this.decoderRunner = new AgentRunner(new BackoffIdleStrategy(100, 10, 1_000, 1_000_000), this::onError, null, decoder);
        this.predictorRunner = new AgentRunner(queue.newReaderIdleStrategy(), this::onError, null, predictor);
    }

    public void start() {
        AgentRunner.startOnThread(decoderRunner);
        AgentRunner.startOnThread(predictorRunner);
    }

    /** Hands a job to this lane; false if its queue is full (never with capacity >= max in flight). */
    public boolean offer(Job job) {
        if (jobs.offer(job)) {
            queued.incrementAndGet();
            return true;
        }
        return false;
    }

    public int index() {
        return index;
    }

    /** Jobs waiting for the decoder. */
    public int queuedJobs() {
        return queued.get();
    }

    private void onError(Throwable t) {
        LOG.error("event=lane_agent_error lane={} error=\"{}\"", index, t.toString(), t);
    }

    @Override
    public void close() {
        decoderRunner.close();
        predictorRunner.close();
        queue.close();
    }
}
