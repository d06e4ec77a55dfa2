package io.inferencefleet.worker.lane;

import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.publish.ResultFactory;
import io.inferencefleet.worker.publish.ResultPublisher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.agrona.concurrent.AgentRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decoder and predictor threads between intake and publisher: D decoder lanes, each writing its
 * own shared-memory tensor queue, and P predictor threads, predictor p reading the queues of lanes
 * p, p+P, p+2P, ... (so D >= P). Closes in dependency order: decoders, predictors, then the queues.
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private final List<DecoderLane> lanes = new ArrayList<>();
    private final List<AgentRunner> predictors = new ArrayList<>();
    private boolean closed;

    public Pipeline(int decoderThreads, int predictorThreads, String workerId, Path shmDir, int jobCapacity,
                    Predictor original, PreprocessConfig preprocess, ImageFetcher fetcher, ResultFactory results,
                    ResultPublisher publisher, IntFunction<BitSet> predictorCpus, WorkerMetrics metrics) {
        if (decoderThreads < predictorThreads) {
            throw new IllegalArgumentException("Invalid value " + decoderThreads + " for decoder.threads: must be at least"
                    + " predictor.threads (" + predictorThreads + "), every predictor reads its own decoders' queues");
        }
        ConcurrentHashMap<Long, Job> registry = new ConcurrentHashMap<>();
        try {
            for (int d = 0; d < decoderThreads; d++) {
                lanes.add(new DecoderLane(d, workerId, shmDir, jobCapacity, registry, preprocess, fetcher, results,
                        publisher, this::onError));
            }
            for (int p = 0; p < predictorThreads; p++) {
                List<TensorReader> readers = new ArrayList<>();
                for (int d = p; d < decoderThreads; d += predictorThreads) {
                    readers.add(lanes.get(d).reader());
                }
                PredictorAgent agent = new PredictorAgent(p, readers, registry, original, preprocess, results, publisher,
                        predictorCpus.apply(p), metrics);
                predictors.add(new AgentRunner(lanes.get(p).readerIdleStrategy(), this::onError, null, agent));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The decoder lanes the intake hands jobs to. */
    public List<DecoderLane> lanes() {
        return lanes;
    }

    public void start() {
        lanes.forEach(DecoderLane::start);
        predictors.forEach(AgentRunner::startOnThread);
    }

    private void onError(Throwable t) {
        LOG.error("event=pipeline_agent_error error=\"{}\"", t.toString(), t);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        lanes.forEach(DecoderLane::stopDecoder);
        predictors.forEach(AgentRunner::close);  // closes the readers and the predictors' clones
        lanes.forEach(DecoderLane::closeQueue);
    }
}
