package io.inferencefleet.worker.lane;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.paddle.PaddleException;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.shm.TensorBatch;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.shm.TensorView;
import io.inferencefleet.worker.config.BatchPlan;
import io.inferencefleet.worker.job.Answers;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import net.openhft.affinity.Affinity;
import org.agrona.BufferUtil;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Predictor {@code index}: hands committed tensors from its decoders' queues to Paddle and answers
 * each job with its top-k result. Owns one predictor, cloned from the worker's original on this
 * thread after the thread is pinned, so that Paddle's math threads start on the same CPUs. Every
 * tensor it reads is answered, whatever is thrown.
 *
 * <p>A lone tensor is run in place: the shared-memory address goes to Paddle, no copy. With
 * {@code predictor.batch.max > 1}, tensors already waiting in a lane are run as one NCHW batch. A
 * batch needs one contiguous address and consecutive tensors in a lane are not contiguous (each
 * Chronicle document has a 4-byte header and our record header before its tensor), so a batch is
 * copied into this agent's 64-byte-aligned buffer first: one memcpy of 588 KiB per ResNet-50 tensor,
 * measured by {@code benchmarks} {@code BatchCopyBenchmark} against the inference it feeds.
 */
final class PredictorAgent implements Agent {
    static final String READER = "predictor";
    /**
     * An idle predictor backs off to parks of this length. With the transport's 10 µs default, an idle
     * predictor thread used about 20 % of a core polling (measured at 0.5 req/s on 2 vCPUs): CPU that
     * the busy predictor and the decoders need. 1 ms is under 1 % of one ResNet-50 inference.
     */
    static final long MAX_PARK_NS = 1_000_000;
    private static final int ALIGNMENT = 64;

    private final int index;
    private final List<TensorReader> readers;
    private final Map<Long, Job> registry;
    private final Predictor original;
    private final Answers answers;
    private final BitSet cpus;
    private final EpochClock clock;
    private final WorkerMetrics metrics;
    private final BatchPlan batching;
    private final int[] shape;
    private final int tensorBytes;
    // Batch state, confined to this agent's thread.
    private final Job[] batchJobs;
    private final long[] batchEnqueueNs;
    private final UnsafeBuffer source = new UnsafeBuffer(0, 0);
    private UnsafeBuffer batchBuffer;
    private int batchSize;
    private int nextReader;
    private Predictor predictor;
    private float[] scores;
    private float[] batchScores;
    private int classes;

    PredictorAgent(int index, List<TensorReader> readers, Map<Long, Job> registry, Predictor original,
                   PreprocessConfig preprocess, BatchPlan batching, Answers answers, BitSet cpus, EpochClock clock,
                   WorkerMetrics metrics) {
        this.index = index;
        this.readers = List.copyOf(readers);
        this.registry = registry;
        this.original = original;
        this.answers = answers;
        this.cpus = cpus;
        this.clock = clock;
        this.metrics = metrics;
        this.batching = batching;
        int[] chw = preprocess.chwShape();
        this.shape = new int[] {1, chw[0], chw[1], chw[2]};
        this.tensorBytes = preprocess.tensorBytes();
        this.batchJobs = new Job[batching.maxTensors()];
        this.batchEnqueueNs = new long[batching.maxTensors()];
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
        if (batching.enabled()) {
            // Allocated here, on the pinned thread: first touch puts its pages on this NUMA node.
            batchBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                    Math.multiplyExact(batching.maxTensors(), tensorBytes), ALIGNMENT));
            batchScores = new float[batching.maxTensors() * classes];
        }
    }

    @Override
    public int doWork() {
        if (!batching.enabled()) {
            int work = 0;
            for (TensorReader reader : readers) {  // its decoders' queues, one tensor from each in turn
                work += reader.poll(this::predict, 1);
            }
            return work;
        }
        int work = 0;
        for (int i = 0; i < readers.size() && work == 0; i++) {  // the first lane with work, fairly rotated
            TensorReader reader = readers.get(nextReader);
            nextReader = (nextReader + 1) % readers.size();
            work = reader.pollBatch(this::onBatch, batching.maxTensors());
            if (batchSize > 0) {
                work += fillAndRun(reader);
            }
        }
        return work;
    }

    /** Tensors read together from one lane: one runs in place; several are copied into the batch buffer. */
    private void onBatch(TensorBatch batch) {
        if (batch.size() == 1) {
            predict(batch.get(0));
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            add(batch.get(i));
        }
    }

    /**
     * Tops the batch up from the same lane, then runs it; returns the tensors read. A read stops at the end of a
     * roll cycle, so one more read at once takes what waits in the next cycle; then, with a batch delay, it
     * waits up to that long for more.
     */
    private int fillAndRun(TensorReader reader) {
        int read = 0;
        try {
            if (batchSize < batching.maxTensors()) {
                read += reader.pollBatch(this::onMoreTensors, batching.maxTensors() - batchSize);
            }
            if (batchSize < batching.maxTensors() && batching.delayNanos() > 0) {
                long deadline = System.nanoTime() + batching.delayNanos();
                while (batchSize < batching.maxTensors() && System.nanoTime() < deadline) {
                    int n = reader.pollBatch(this::onMoreTensors, batching.maxTensors() - batchSize);
                    read += n;
                    if (n == 0) {
                        Thread.onSpinWait();
                    }
                }
            }
        } finally {
            // The jobs already copied are answered even if a read above threw: none waits for a later doWork.
            runBatch();
        }
        return read;
    }

    private void onMoreTensors(TensorBatch batch) {
        for (int i = 0; i < batch.size(); i++) {
            add(batch.get(i));
        }
    }

    /** Copies one tensor into the next batch slot, or answers it at once when it cannot join the batch. */
    private void add(TensorView tensor) {
        Job job = takeJob(tensor);
        if (job == null) {
            return;
        }
        try {
            long now = clock.time();
            Long deadline = job.request().deadlineMs();
            if (deadline != null && now > deadline) {
                answers.expired(job, deadline, now);  // expired while queued: not worth a slot
                return;
            }
            if (tensor.lengthBytes() != tensorBytes) {
                answers.error(job, ErrorCode.INTERNAL_ERROR, "tensor of " + tensor.lengthBytes() + " bytes, expected "
                        + tensorBytes);
                return;
            }
            source.wrap(tensor.address(), tensor.lengthBytes());
            batchBuffer.putBytes(batchSize * tensorBytes, source, 0, tensorBytes);
            batchJobs[batchSize] = job;
            batchEnqueueNs[batchSize] = tensor.enqueueTimeNs();
            batchSize++;
        } catch (Throwable t) {
            metrics.agentError(roleName());
            if (!job.isAnswered()) {
                answers.error(job, ErrorCode.INTERNAL_ERROR, "batching failed: " + t);
            }
        }
    }

    /** Runs the copied tensors as one batch and answers each of them, in order; a failure answers them all. */
    private void runBatch() {
        int n = batchSize;
        try {
            if (n == 0) {
                return;
            }
            long start = System.nanoTime();
            try {
                predictor.setInput(0, batchBuffer.addressOffset(), (long) n * tensorBytes, n, shape[1], shape[2],
                        shape[3]);
                predictor.run();
                predictor.copyOutput(0, batchScores);
            } catch (PaddleException | IllegalArgumentException e) {
                for (int i = 0; i < n; i++) {
                    answers.error(batchJobs[i], ErrorCode.MODEL_ERROR, e.getMessage());
                }
                return;
            }
            long end = System.nanoTime();
            double inferenceMs = (end - start) / 1e6;
            metrics.predictorBusy(index, inferenceMs / 1000.0);
            metrics.batch(n);
            for (int i = 0; i < n; i++) {
                System.arraycopy(batchScores, i * classes, scores, 0, classes);
                answers.ok(batchJobs[i], scores, classes, inferenceMs, (start - batchEnqueueNs[i]) / 1e6);
            }
        } catch (Throwable t) {
            metrics.agentError(roleName());
            for (int i = 0; i < n; i++) {
                if (!batchJobs[i].isAnswered()) {
                    answers.error(batchJobs[i], ErrorCode.INTERNAL_ERROR, "inference failed: " + t);
                }
            }
        } finally {
            java.util.Arrays.fill(batchJobs, 0, n, null);
            batchSize = 0;
        }
    }

    private Job takeJob(TensorView tensor) {
        Job job = registry.remove(Job.registryKey(tensor.sourcePartition(), tensor.sourceOffset()));
        if (job == null) {
            // A tensor without a job: a bug (the decoder registers before committing). Count it; nothing to answer.
            metrics.agentError(roleName());
        }
        return job;
    }

    /** One tensor, run in place: its shared-memory address is Paddle's input. */
    private void predict(TensorView tensor) {
        Job job = takeJob(tensor);
        if (job == null) {
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
            metrics.batch(1);
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
        batchBuffer = null;  // plain direct memory, freed by the GC with its buffer
    }

    @Override
    public String roleName() {
        return "predictor-" + index;
    }
}
