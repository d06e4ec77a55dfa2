package io.inferencefleet.worker.lane;

import io.inferencefleet.shm.ClaimStatus;
import io.inferencefleet.shm.DType;
import io.inferencefleet.shm.TensorClaim;
import io.inferencefleet.shm.TensorWriter;
import io.inferencefleet.worker.fetch.FetchResult;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.preprocess.ImagePreprocessor;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.preprocess.PreprocessStatus;
import io.inferencefleet.worker.publish.ResultFactory;
import io.inferencefleet.worker.publish.ResultPublisher;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.Agent;

/**
 * Fetches a job's image and preprocesses it straight into a claimed shared-memory tensor, which it
 * commits for the predictor. Failures become ERROR results here, expired requests EXPIRED ones;
 * neither reaches the predictor. A full tensor queue is back-pressure: the job waits, already
 * fetched, until there is room.
 */
final class DecoderAgent implements Agent {
    /** Code of a failure inside the worker itself (a bug or resource problem, not bad input). */
    static final String INTERNAL_ERROR = "internal_error";

    private final int lane;
    private final Queue<Job> jobs;
    private final AtomicInteger queued;
    private final TensorWriter writer;
    private final TensorClaim claim;
    private final Map<Long, Job> registry;
    private final PreprocessConfig preprocessConfig;
    private final ImageFetcher fetcher;
    private final ResultFactory results;
    private final ResultPublisher publisher;
    private ImagePreprocessor preprocessor;
    private Job waiting;

    DecoderAgent(int lane, Queue<Job> jobs, AtomicInteger queued, TensorWriter writer, Map<Long, Job> registry,
                 PreprocessConfig preprocessConfig, ImageFetcher fetcher, ResultFactory results, ResultPublisher publisher) {
        this.lane = lane;
        this.jobs = jobs;
        this.queued = queued;
        this.writer = writer;
        this.claim = writer.newClaim();
        this.registry = registry;
        this.preprocessConfig = preprocessConfig;
        this.fetcher = fetcher;
        this.results = results;
        this.publisher = publisher;
    }

    @Override
    public void onStart() {
        preprocessor = new ImagePreprocessor(preprocessConfig);
    }

    @Override
    public int doWork() {
        Job job = waiting;
        if (job == null) {
            job = jobs.poll();
            if (job == null) {
                return 0;
            }
            queued.decrementAndGet();
            if (expired(job) || !fetch(job)) {
                return 1;
            }
        }
        int status = writer.tryClaim(preprocessConfig.tensorBytes(), claim);
        if (status != ClaimStatus.OK) {
            waiting = job;  // back-pressured (or closing): keep the fetched job and try again
            return 0;
        }
        waiting = null;
        long start = System.nanoTime();
        PreprocessStatus preprocessed;
        try {
            preprocessed = preprocessor.preprocess(job.imageBytes, DirectMemory.wrap(claim.address(), claim.lengthBytes()));
        } catch (RuntimeException e) {
            // Never lose a job: an unexpected OpenCV failure still answers the request (and frees the slot).
            claim.abort();
            publisher.publish(job, results.error(job, INTERNAL_ERROR, "preprocessing failed: " + e));
            return 1;
        } finally {
            job.preprocessMs = (System.nanoTime() - start) / 1e6;
            job.imageBytes = null;
        }
        if (preprocessed != PreprocessStatus.OK) {
            claim.abort();
            publisher.publish(job, results.error(job, preprocessed.code(), preprocessor.lastDetail()));
            return 1;
        }
        int[] shape = preprocessConfig.chwShape();
        registry.put(Job.registryKey(job.partition().partition(), job.offset()), job);
        claim.requestKey(job.request().id())
                .source(job.partition().partition(), job.offset())
                .shape(1, shape[0], shape[1], shape[2])
                .dtype(DType.FLOAT32)
                .commit();
        return 1;
    }

    private boolean expired(Job job) {
        Long deadline = job.request().deadlineMs();
        long now = System.currentTimeMillis();
        if (deadline != null && now > deadline) {
            publisher.publish(job, results.expired(job, deadline, now));
            return true;
        }
        return false;
    }

    private boolean fetch(Job job) {
        FetchResult fetched = fetcher.fetch(job.request().imageUri());
        job.fetchMs = fetched.elapsedNs() / 1e6;
        if (!fetched.isOk()) {
            publisher.publish(job, results.error(job, fetched.status().code(), fetched.detail()));
            return false;
        }
        job.imageBytes = fetched.bytes();
        return true;
    }

    @Override
    public void onClose() {
        claim.abort();
        if (preprocessor != null) {
            preprocessor.close();
        }
    }

    @Override
    public String roleName() {
        return "decoder-" + lane;
    }
}
