package io.inferencefleet.worker.lane;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.shm.ClaimStatus;
import io.inferencefleet.shm.DType;
import io.inferencefleet.shm.TensorClaim;
import io.inferencefleet.shm.TensorWriter;
import io.inferencefleet.worker.fetch.FetchResult;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.job.Answers;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.ImagePreprocessor;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.preprocess.PreprocessStatus;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;

/**
 * Fetches a job's image and preprocesses it straight into a claimed shared-memory tensor, which it
 * commits for the predictor. Failures become ERROR results here, expired requests EXPIRED ones;
 * neither reaches the predictor. A full tensor queue is back-pressure: the job waits, already
 * fetched, until there is room.
 *
 * <p>Every job taken from the queue leaves with exactly one answer or as a committed tensor whose job
 * is in the registry for the predictor, whatever is thrown on the way ({@code Error}s included): a
 * claim is aborted on every path that does not commit it, so one record can never block the lane.
 */
final class DecoderAgent implements Agent {
    private final int lane;
    private final Queue<Job> jobs;
    private final AtomicInteger queued;
    private final TensorWriter writer;
    private final TensorClaim claim;
    private final Map<Long, Job> registry;
    private final PreprocessConfig preprocessConfig;
    private final ImageFetcher fetcher;
    private final Answers answers;
    private final EpochClock clock;
    private final WorkerMetrics metrics;
    private ImagePreprocessor preprocessor;
    private Job waiting;

    DecoderAgent(int lane, Queue<Job> jobs, AtomicInteger queued, TensorWriter writer, Map<Long, Job> registry,
                 PreprocessConfig preprocessConfig, ImageFetcher fetcher, Answers answers, EpochClock clock,
                 WorkerMetrics metrics) {
        this.lane = lane;
        this.jobs = jobs;
        this.queued = queued;
        this.writer = writer;
        this.claim = writer.newClaim();
        this.registry = registry;
        this.preprocessConfig = preprocessConfig;
        this.fetcher = fetcher;
        this.answers = answers;
        this.clock = clock;
        this.metrics = metrics;
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
            try {
                if (expired(job) || !fetch(job)) {
                    return 1;
                }
            } catch (Throwable t) {
                fail(job, "fetching failed", t);
                return 1;
            }
        }
        int status;
        try {
            status = writer.tryClaim(preprocessConfig.tensorBytes(), claim);
        } catch (Throwable t) {
            fail(job, "claiming shared memory failed", t);
            return 1;
        }
        if (status != ClaimStatus.OK) {
            waiting = job;  // back-pressured (or closing): keep the fetched job and try again
            return 0;
        }
        waiting = null;
        try {
            preprocessAndCommit(job);
        } catch (Throwable t) {
            fail(job, "preprocessing failed", t);
        } finally {
            if (claim.isOpen()) {
                claim.abort();  // every path that did not commit frees the slot
            }
        }
        return 1;
    }

    private void preprocessAndCommit(Job job) {
        long start = System.nanoTime();
        PreprocessStatus preprocessed;
        try {
            preprocessed = preprocessor.preprocess(job.imageBytes(), DirectMemory.wrap(claim.address(), claim.lengthBytes()));
        } finally {
            job.preprocessed((System.nanoTime() - start) / 1e6);
        }
        if (preprocessed != PreprocessStatus.OK) {
            claim.abort();
            answers.error(job, ErrorCode.of(preprocessed.code()), preprocessor.lastDetail());
            return;
        }
        int[] shape = preprocessConfig.chwShape();
        long key = Job.registryKey(job.partition().partition(), job.offset());
        registry.put(key, job);
        try {
            claim.requestKey(job.request().id())
                    .source(job.partition().partition(), job.offset())
                    .shape(1, shape[0], shape[1], shape[2])
                    .dtype(DType.FLOAT32)
                    .commit();
        } catch (RuntimeException | Error e) {
            registry.remove(key, job);  // never committed: the predictor will not see it
            throw e;
        }
    }

    /** Answers {@code job} with internal_error (unless something already answered it) and counts the failure. */
    private void fail(Job job, String what, Throwable t) {
        metrics.agentError(roleName());
        if (!job.isAnswered()) {
            answers.error(job, ErrorCode.INTERNAL_ERROR, what + ": " + t);
        }
    }

    private boolean expired(Job job) {
        Long deadline = job.request().deadlineMs();
        long now = clock.time();
        if (deadline != null && now > deadline) {
            answers.expired(job, deadline, now);
            return true;
        }
        return false;
    }

    private boolean fetch(Job job) {
        FetchResult fetched = fetcher.fetch(job.request().imageUri());
        if (!fetched.isOk()) {
            job.fetched(null, fetched.elapsedNs() / 1e6);
            answers.error(job, ErrorCode.of(fetched.status().code()), fetched.detail());
            return false;
        }
        job.fetched(fetched.bytes(), fetched.elapsedNs() / 1e6);
        return true;
    }

    @Override
    public void onClose() {
        if (claim.isOpen()) {
            claim.abort();
        }
        if (preprocessor != null) {
            preprocessor.close();
        }
    }

    @Override
    public String roleName() {
        return "decoder-" + lane;
    }
}
