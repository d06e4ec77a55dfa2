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
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

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
    /**
     * A back-pressured decoder waits at most this long between two looks at its full queue. Why it waits
     * at all: a full queue holds its capacity in tensors, that many inferences of work, so nothing is
     * gained by looking again every millisecond, and every look was a wake-up on CPUs the predictors
     * need. Measured under a 240-request ResNet-50 backlog on 2 vCPUs (benchmarks WorkerThroughputSuite's
     * CPU per image, quiet machine, old and new interleaved twice): with only the lane's idle strategy
     * (parks of at most 1 ms) the decoders woke 45 times per image and cost 5.4–5.6 ms/img; with these
     * waits 17 times and 4.9–5.1 ms/img, and the predictors were preempted 35 instead of 56 times per image.
     */
    static final long BACK_PRESSURE_MAX_PARK_NS = 5_000_000;

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
    private final NanoClock nanoClock;
    private final LongConsumer parkNs;
    private ImagePreprocessor preprocessor;
    private Job waiting;
    private boolean backPressured;
    /** When the current back-pressure spell began (valid while backPressured). */
    private long backPressuredSinceNs;
    /** How long the last spell lasted: about the time the predictor takes to free a slot. */
    private long lastSpellNs;

    DecoderAgent(int lane, Queue<Job> jobs, AtomicInteger queued, TensorWriter writer, Map<Long, Job> registry,
                 PreprocessConfig preprocessConfig, ImageFetcher fetcher, Answers answers, EpochClock clock,
                 WorkerMetrics metrics) {
        this(lane, jobs, queued, writer, registry, preprocessConfig, fetcher, answers, clock, metrics,
                SystemNanoClock.INSTANCE, LockSupport::parkNanos);
    }

    /** Tests: with the clock and the park a back-pressured decoder uses. */
    DecoderAgent(int lane, Queue<Job> jobs, AtomicInteger queued, TensorWriter writer, Map<Long, Job> registry,
                 PreprocessConfig preprocessConfig, ImageFetcher fetcher, Answers answers, EpochClock clock,
                 WorkerMetrics metrics, NanoClock nanoClock, LongConsumer parkNs) {
        this.nanoClock = nanoClock;
        this.parkNs = parkNs;
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
            if (status == ClaimStatus.BACK_PRESSURED) {
                awaitRoom();
            }
            return 0;
        }
        if (backPressured) {
            lastSpellNs = nanoClock.nanoTime() - backPressuredSinceNs;
            backPressured = false;
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

    /**
     * Waits about half as long as the last back-pressure spell lasted, at most
     * {@link #BACK_PRESSURE_MAX_PARK_NS}: a slow model's predictor frees a slot every few tens of
     * milliseconds and its decoder need not look more often; a tiny model's frees one in a millisecond
     * and its decoder looks about as often as before. The first look of a spell does not wait (nothing
     * is known yet), and a wait never comes before a job is fetched: only a full queue makes one.
     */
    private void awaitRoom() {
        if (!backPressured) {
            backPressured = true;
            backPressuredSinceNs = nanoClock.nanoTime();
            return;
        }
        long park = Math.min(lastSpellNs / 2, BACK_PRESSURE_MAX_PARK_NS);
        if (park > 0) {
            parkNs.accept(park);
        }
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
