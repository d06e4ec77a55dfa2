package io.inferencefleet.worker.lane;

import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.model.TensorSpec;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.worker.config.BatchPlan;
import io.inferencefleet.worker.config.ThreadPlan;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.job.Answers;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decoder and predictor threads between intake and publisher: D decoder lanes, each writing its
 * own shared-memory tensor queue, and P predictor threads, predictor p reading the queues of lanes
 * p, p+P, p+2P, ... ({@link ThreadPlan} guarantees D >= P). Closes in dependency order: decoders,
 * predictors, then the queues, each runner waited for even when the closing thread is interrupted
 * (a queue must never be unmapped while Paddle or OpenCV may still read or write it).
 *
 * <p>{@link #alive()} is false once any agent thread has ended (an error in {@code onStart}, an
 * {@code Error} Agrona rethrows): its lane would accept jobs it never answers, so the worker treats
 * that as fatal.
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private final List<DecoderLane> lanes = new ArrayList<>();
    private final List<AgentRunner> predictors = new ArrayList<>();
    private final WorkerMetrics metrics;
    private final Map<AgentRunner, Thread> threads = new ConcurrentHashMap<>();
    private volatile boolean started;
    private boolean closed;

    public Pipeline(ThreadPlan plan, BatchPlan batching, String workerId, Path shmDir, int jobCapacity, Predictor original,
                    PreprocessConfig preprocess, ImageFetcher fetcher, Answers answers,
                    IntFunction<BitSet> predictorCpus, EpochClock clock, WorkerMetrics metrics) {
        this.metrics = metrics;
        checkBatchDimension(original.inputs().get(0), batching);
        SharedMemoryBudget.check(shmDir, plan.decoders(), sharedMemoryBytes(1, preprocess.tensorBytes()));
        ConcurrentHashMap<Long, Job> registry = new ConcurrentHashMap<>();
        try {
            for (int d = 0; d < plan.decoders(); d++) {
                lanes.add(new DecoderLane(d, workerId, shmDir, jobCapacity, registry, preprocess, fetcher, answers, clock,
                        metrics, this::onError));
            }
            for (int p = 0; p < plan.predictors(); p++) {
                List<TensorReader> readers = new ArrayList<>();
                for (int d = p; d < plan.decoders(); d += plan.predictors()) {
                    readers.add(lanes.get(d).reader());
                }
                PredictorAgent agent = new PredictorAgent(p, readers, registry, original, preprocess, batching,
                        answers, predictorCpus.apply(p), clock, metrics);
                predictors.add(new AgentRunner(PredictorAgent.newIdleStrategy(), this::onError, null, agent));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The shared memory a pipeline of {@code decoders} lanes may occupy in {@code shm.dir}, which is also
     * what its start-up check requires free there: per lane, its tensor queue's capacity plus as much
     * again for consumed roll cycles not yet deleted ({@link SharedMemoryBudget#bytesPerLane}). The one
     * figure a deployment sizes its /dev/shm from (ops/kubernetes checks its volume against it).
     */
    public static long sharedMemoryBytes(int decoders, int tensorBytes) {
        long queueBytes = DecoderLane.queueConfig("budget", Path.of("budget"), tensorBytes).build().capacityBytes();
        return decoders * SharedMemoryBudget.bytesPerLane(queueBytes);
    }

    /**
     * The batching {@code input} can take: {@code asked}, or none for a model whose input has a fixed
     * batch size when batching was left at its default ({@code explicit} false), so that the default works
     * with every model; asked for explicitly, {@link #checkBatchDimension} refuses such a model at start.
     */
    public static BatchPlan batchingFor(TensorSpec input, BatchPlan asked, boolean explicit) {
        if (asked.enabled() && fixedBatchSize(input) && !explicit) {
            LOG.info("event=batching_off input={} batch_size={} reason=\"the model's batch size is fixed; predictor.batch.max"
                    + " was left at its default\"", input.name(), input.dim(0));
            return BatchPlan.OFF;
        }
        return asked;
    }

    /** A model whose input has a fixed batch size cannot take batches: refused at start, not per request. */
    static void checkBatchDimension(TensorSpec input, BatchPlan batching) {
        long declared = input.dim(0);
        if (batching.enabled() && fixedBatchSize(input)) {
            throw new IllegalArgumentException("Invalid value " + batching.maxTensors() + " for predictor.batch.max: the"
                    + " model's input " + input.name() + " has a fixed batch size of " + declared
                    + "; set predictor.batch.max=1");
        }
    }

    /** The input's first (batch) dimension is a number, not dynamic (-1). */
    private static boolean fixedBatchSize(TensorSpec input) {
        return input.dim(0) > 0;
    }

    /** The decoder lanes the intake hands jobs to. */
    public List<DecoderLane> lanes() {
        return lanes;
    }

    public void start() {
        lanes.forEach(lane -> startOnThread(lane.runner()));
        predictors.forEach(this::startOnThread);
        started = true;
    }

    private void startOnThread(AgentRunner runner) {
        AgentRunner.startOnThread(runner, r -> {
            Thread thread = new Thread(r);  // AgentRunner names it after the agent's role
            threads.put(runner, thread);
            return thread;
        });
    }

    /** True while every decoder and predictor thread runs (false before {@link #start()}). */
    public boolean alive() {
        return started && threads.values().stream().allMatch(Thread::isAlive);
    }

    private void onError(Throwable t) {
        metrics.agentError("pipeline");
        LOG.error("event=pipeline_agent_error error=\"{}\"", t.toString(), t);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Agrona's AgentRunner.close returns without waiting when this thread is interrupted; clear the
        // flag while closing (and restore it) so that no queue is unmapped under a running agent.
        boolean interrupted = Thread.interrupted();
        try {
            lanes.forEach(lane -> closeRunner(lane.runner()));
            predictors.forEach(this::closeRunner);  // closes the readers and the predictors' clones
            lanes.forEach(DecoderLane::closeQueue);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void closeRunner(AgentRunner runner) {
        runner.close();
        Thread thread = threads.get(runner);
        while (thread != null && thread.isAlive()) {
            // close() gave up early (interrupted again): keep waiting, the memory closed next must not
            // go away while the agent may touch it. Our caller restores the interrupt flag.
            try {
                thread.join(1_000);
            } catch (InterruptedException e) {
                // keep waiting
            }
        }
    }
}
