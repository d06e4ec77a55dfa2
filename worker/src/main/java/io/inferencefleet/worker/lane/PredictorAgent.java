package io.inferencefleet.worker.lane;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.paddle.PaddleException;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.shm.TensorView;
import io.inferencefleet.worker.job.Answers;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import net.openhft.affinity.Affinity;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;

/**
 * Predictor {@code index}: hands each committed tensor's shared memory (from its decoders' queues)
 * to Paddle without copying it, then answers the job with the top-k result. Owns one predictor,
 * cloned from the worker's original on this thread after the thread is pinned, so that Paddle's
 * math threads start on the same CPUs. Every tensor it reads is answered, whatever is thrown.
 */
final class PredictorAgent implements Agent {
    static final String READER = "predictor";
    /**
     * An idle predictor backs off to parks of this length. With the transport's 10 µs default, an idle
     * predictor thread used about 20 % of a core polling (measured at 0.5 req/s on 2 vCPUs): CPU that
     * the busy predictor and the decoders need. 1 ms is under 1 % of one ResNet-50 inference.
     */
    static final long MAX_PARK_NS = 1_000_000;

    private final int index;
    private final List<TensorReader> readers;
    private final Map<Long, Job> registry;
    private final Predictor original;
    private final Answers answers;
    private final BitSet cpus;
    private final EpochClock clock;
    private final WorkerMetrics metrics;
    private final int[] shape;
    private Predictor predictor;
    private float[] scores;
    private int classes;

    PredictorAgent(int index, List<TensorReader> readers, Map<Long, Job> registry, Predictor original,
                   PreprocessConfig preprocess, Answers answers, BitSet cpus, EpochClock clock, WorkerMetrics metrics) {
        this.index = index;
        this.readers = List.copyOf(readers);
        this.registry = registry;
        this.original = original;
        this.answers = answers;
        this.cpus = cpus;
        this.clock = clock;
        this.metrics = metrics;
        int[] chw = preprocess.chwShape();
        this.shape = new int[] {1, chw[0], chw[1], chw[2]};
    }

    /** This predictor's own idle strategy (it serves several lanes; none of theirs is its own). */
    static IdleStrategy newIdleStrategy() {
        return new BackoffIdleStrategy(100, 10, 1_000, MAX_PARK_NS);
    }

    @Override
    public void onStart() {
        if (cpus != null) {
            Affinity.setAffinity(cpus);  // before the clone: Paddle's math threads inherit it
        }
        predictor = original.cloneSharingWeights();
        long declared = predictor.outputs().get(0).dim(predictor.outputs().get(0).rank() - 1);
        classes = (int) Math.max(declared, 1);
        scores = new float[classes];
    }

    @Override
    public int doWork() {
        int work = 0;
        for (TensorReader reader : readers) {  // its decoders' queues, one tensor from each in turn
            work += reader.poll(this::predict, 1);
        }
        return work;
    }

    private void predict(TensorView tensor) {
        Job job = registry.remove(Job.registryKey(tensor.sourcePartition(), tensor.sourceOffset()));
        if (job == null) {
            // A tensor without a job: a bug (the decoder registers before committing). Count it; nothing to answer.
            metrics.agentError(roleName());
            return;
        }
        try {
            double queueMs = (System.nanoTime() - tensor.enqueueTimeNs()) / 1e6;
            Long deadline = job.request().deadlineMs();
            long now = clock.time();
            if (deadline != null && now > deadline) {
                answers.expired(job, deadline, now);  // expired while queued: skip Paddle
                return;
            }
            long start = System.nanoTime();
            try {
                predictor.setInput(0, tensor.address(), tensor.lengthBytes(), shape);
                predictor.run();
                predictor.copyOutput(0, scores);
            } catch (PaddleException | IllegalArgumentException e) {
                answers.error(job, ErrorCode.MODEL_ERROR, e.getMessage());
                return;
            }
            double inferenceMs = (System.nanoTime() - start) / 1e6;
            metrics.predictorBusy(index, inferenceMs / 1000.0);
            answers.ok(job, scores, classes, inferenceMs, queueMs);
        } catch (Throwable t) {
            // Never lose a job: its offset could otherwise never be committed.
            metrics.agentError(roleName());
            if (!job.isAnswered()) {
                answers.error(job, ErrorCode.INTERNAL_ERROR, "inference failed: " + t);
            }
        }
    }

    @Override
    public void onClose() {
        readers.forEach(TensorReader::close);
        if (predictor != null) {
            predictor.close();
        }
    }

    @Override
    public String roleName() {
        return "predictor-" + index;
    }
}
