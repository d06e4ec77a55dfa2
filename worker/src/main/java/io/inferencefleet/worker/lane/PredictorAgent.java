package io.inferencefleet.worker.lane;

import io.inferencefleet.paddle.PaddleException;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.shm.TensorView;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.publish.ResultFactory;
import io.inferencefleet.worker.publish.ResultPublisher;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import net.openhft.affinity.Affinity;
import org.agrona.concurrent.Agent;

/**
 * Hands each committed tensor's shared memory (from its decoders' queues) to Paddle without copying
 * it, then publishes the top-k result. Owns one predictor, cloned from the worker's original on this thread after the
 * thread is pinned, so that Paddle's math threads start on the same CPUs.
 */
final class PredictorAgent implements Agent {
    static final String READER = "predictor";

    private final int lane;
    private final List<TensorReader> readers;
    private final Map<Long, Job> registry;
    private final Predictor original;
    private final ResultFactory results;
    private final ResultPublisher publisher;
    private final BitSet cpus;
    private final WorkerMetrics metrics;
    private final int[] shape;
    private Predictor predictor;
    private float[] scores;
    private int classes;

    PredictorAgent(int lane, List<TensorReader> readers, Map<Long, Job> registry, Predictor original,
                   PreprocessConfig preprocess, ResultFactory results, ResultPublisher publisher, BitSet cpus, WorkerMetrics metrics) {
        this.lane = lane;
        this.readers = List.copyOf(readers);
        this.registry = registry;
        this.original = original;
        this.results = results;
        this.publisher = publisher;
        this.cpus = cpus;
        this.metrics = metrics;
        int[] chw = preprocess.chwShape();
        this.shape = new int[] {1, chw[0], chw[1], chw[2]};
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
            return;  // abandoned (partition revoked or worker stopping)
        }
        double queueMs = (System.nanoTime() - tensor.enqueueTimeNs()) / 1e6;
        Long deadline = job.request().deadlineMs();
        long now = System.currentTimeMillis();
        if (deadline != null && now > deadline) {
            publisher.publish(job, results.expired(job, deadline, now));  // expired while queued: skip Paddle
            return;
        }
        long start = System.nanoTime();
        try {
            predictor.setInput(0, tensor.address(), tensor.lengthBytes(), shape);
            predictor.run();
            predictor.copyOutput(0, scores);
        } catch (PaddleException | IllegalArgumentException e) {
            publisher.publish(job, results.error(job, "model_error", e.getMessage()));
            return;
        } catch (RuntimeException e) {
            // Never lose a job: its offset could otherwise never be committed.
            publisher.publish(job, results.error(job, DecoderAgent.INTERNAL_ERROR, "inference failed: " + e));
            return;
        }
        double inferenceMs = (System.nanoTime() - start) / 1e6;
        metrics.predictorBusy(lane, inferenceMs / 1000.0);
        publisher.publish(job, results.ok(job, scores, classes, inferenceMs, queueMs));
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
        return "predictor-" + lane;
    }
}
