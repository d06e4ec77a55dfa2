package io.inferencefleet.worker.lane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.shm.TensorView;
import io.inferencefleet.testing.SharedImages;
import io.inferencefleet.worker.fetch.FetchConfig;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.job.RecordingAnswers;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoder agent driven through {@code doWork()} without Kafka (Aeron's DriverConductorTest style):
 * real fetcher, real OpenCV, a real shared-memory queue, recorded answers and an injected clock.
 * Every job in leaves as exactly one answer, or as exactly one committed tensor whose job waits in
 * the registry for the predictor.
 */
class DecoderAgentTest {
    @TempDir
    Path temp;

    private final PreprocessConfig preprocess = PreprocessConfig.imageNet();
    private final OneToOneConcurrentArrayQueue<Job> jobs = new OneToOneConcurrentArrayQueue<>(16);
    private final Map<Long, Job> registry = new ConcurrentHashMap<>();
    private final RecordingAnswers answers = new RecordingAnswers();
    private final CachedEpochClock clock = new CachedEpochClock();
    private final WorkerMetrics metrics = new WorkerMetrics();
    private Path images;
    private ImageFetcher fetcher;
    private TensorQueue queue;
    private DecoderAgent agent;

    @BeforeEach
    void setUp() {
        images = SharedImages.dir();
        fetcher = new ImageFetcher(FetchConfig.defaults().withFileRoots(images));
        queue = AgentFixture.queue(temp.resolve("lane"), preprocess.tensorBytes());
        agent = new DecoderAgent(0, jobs, new AtomicInteger(), queue.writer(), registry, preprocess, fetcher, answers,
                clock, metrics);
        agent.onStart();
        clock.update(1_000_000);
    }

    @AfterEach
    void tearDown() {
        agent.onClose();
        queue.close();
        fetcher.close();
    }

    private Job submit(String id, String uri) {
        Job job = AgentFixture.job(InferenceRequest.of(id, uri));
        jobs.offer(job);
        return job;
    }

    private List<TensorView> committed() {
        List<TensorView> seen = new ArrayList<>();
        try (var reader = queue.reader(PredictorAgent.READER)) {
            reader.poll(t -> seen.add(new Snapshot(t.sourcePartition(), t.sourceOffset(), t.requestKey())), 100);
        }
        return seen;
    }

    @Test
    void aGoodImageBecomesOneCommittedTensorAndNoAnswer() {
        Job job = submit("cat", images.resolve("squirrel_cls.jpg").toUri().toString());
        assertEquals(1, agent.doWork());
        assertEquals(List.of(), answers.answers());
        assertSame(job, registry.get(Job.registryKey(0, job.offset())));
        List<TensorView> tensors = committed();
        assertEquals(1, tensors.size());
        assertEquals(job.offset(), tensors.get(0).sourceOffset());
        assertEquals("cat", tensors.get(0).requestKey());
        assertTrue(job.preprocessMs() >= 0 && job.fetchMs() >= 0);
        assertNull(job.imageBytes(), "the encoded bytes are dropped once preprocessed");
    }

    @Test
    void eachFailureIsExactlyOneAnswerWithItsCodeAndNothingReachesThePredictor() {
        submit("missing", images.resolve("nope.jpg").toUri().toString());
        submit("outside", "file:///etc/passwd");
        submit("truncated", images.resolve("truncated.jpg").toUri().toString());
        Job late = AgentFixture.job(InferenceRequest.of("late", images.resolve("apple.jpg").toUri().toString())
                .withDeadlineMs(999_999));
        jobs.offer(late);
        for (int i = 0; i < 4; i++) {
            assertEquals(1, agent.doWork());
        }
        assertEquals(0, agent.doWork());
        List<RecordingAnswers.Answer> got = answers.answers();
        assertEquals(List.of(ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN_URI, ErrorCode.TRUNCATED_IMAGE,
                ErrorCode.DEADLINE_EXCEEDED), got.stream().map(RecordingAnswers.Answer::code).toList());
        assertEquals("EXPIRED", got.get(3).outcome());
        assertTrue(registry.isEmpty());
        assertEquals(List.of(), committed());
        assertEquals(0, answers.refused());
    }

    @Test
    void idsUpToTheRequestLimitFitTheSharedMemoryRecordAndNeverBlockTheLane() {
        // Regression: the shm record held 176 bytes of key while requests allowed 256 characters; a
        // 200-character id threw after the claim, left it open, and every later claim on the lane failed.
        String longAscii = "a".repeat(InferenceRequest.MAX_ID_BYTES);
        String cjk = "漢".repeat(InferenceRequest.MAX_ID_BYTES / 3);  // 255 bytes of UTF-8
        String uri = images.resolve("apple.jpg").toUri().toString();
        submit(longAscii, uri);
        submit(cjk, uri);
        submit("after", uri);
        for (int i = 0; i < 3; i++) {
            assertEquals(1, agent.doWork());
        }
        assertEquals(List.of(), answers.answers());
        assertEquals(List.of(longAscii, cjk, "after"), committed().stream().map(TensorView::requestKey).toList());
    }

    @Test
    void anythingThrownStillAnswersTheJobAbortsTheClaimAndTheLaneGoesOn() {
        // A job without a request never comes from the intake; here it makes the agent throw mid-job.
        jobs.offer(AgentFixture.job(null));
        submit("next", images.resolve("apple.jpg").toUri().toString());
        assertEquals(1, agent.doWork());
        assertEquals(1, agent.doWork());
        List<RecordingAnswers.Answer> got = answers.answers();
        assertEquals(1, got.size());
        assertEquals(ErrorCode.INTERNAL_ERROR, got.get(0).code());
        assertEquals(List.of("next"), committed().stream().map(TensorView::requestKey).toList());
        assertEquals(1.0, metrics.agentErrors("decoder-0"), 0.0);
    }

    @Test
    void aCommitThatFailsAfterTheClaimAbortsItAnswersTheJobAndTheLaneGoesOn() {
        // Regression: a throw between claim and commit left the claim open, and every later claim on
        // the lane threw "claim is still open": one record stalled the lane for good.
        agent.onClose();
        queue.close();
        queue = AgentFixture.queueWithKeyRoom(temp.resolve("small-keys"), preprocess.tensorBytes(), 8);
        agent = new DecoderAgent(0, jobs, new AtomicInteger(), queue.writer(), registry, preprocess, fetcher, answers,
                clock, metrics);
        agent.onStart();
        String uri = images.resolve("apple.jpg").toUri().toString();
        Job tooLong = submit("longer-than-eight-bytes", uri);
        submit("short", uri);
        assertEquals(1, agent.doWork());
        assertEquals(1, agent.doWork());
        assertEquals(List.of(ErrorCode.INTERNAL_ERROR), answers.answers().stream().map(RecordingAnswers.Answer::code).toList());
        assertFalse(registry.containsKey(Job.registryKey(0, tooLong.offset())), "an uncommitted job leaves the registry");
        assertEquals(List.of("short"), committed().stream().map(TensorView::requestKey).toList());
    }

    @Test
    void aFullQueueKeepsTheFetchedJobWaitingAndAnswersNothing() {
        String uri = images.resolve("apple.jpg").toUri().toString();
        for (int i = 0; i < 6; i++) {
            submit("j" + i, uri);
        }
        int committed = 0;
        for (int i = 0; i < 6; i++) {
            committed += agent.doWork();
        }
        assertFalse(committed == 6, "the queue holds 4 tensors; the 5th must wait");
        assertEquals(List.of(), answers.answers());
        assertEquals(committed, registry.size());
    }

    @Test
    void aBackPressuredDecoderWaitsHalfTheLastSpellAtMostTheCapAndNeverWithoutAFullQueue() {
        // Regression: a back-pressured decoder looked at its full queue at the lane idle strategy's pace
        // (every 1 ms), 45 wake-ups per ResNet-50 image on CPUs the predictors needed.
        CachedNanoClock nanos = new CachedNanoClock();
        nanos.update(1_000);
        List<Long> parks = new ArrayList<>();
        agent.onClose();
        agent = new DecoderAgent(0, jobs, new AtomicInteger(), queue.writer(), registry, preprocess, fetcher, answers,
                clock, metrics, nanos, parks::add);
        agent.onStart();
        String uri = images.resolve("apple.jpg").toUri().toString();
        assertEquals(0, agent.doWork());
        assertEquals(List.of(), parks, "no job: the lane's idle strategy waits, as short as before (latency)");
        for (int i = 0; i < 6; i++) {
            submit("a" + i, uri);
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(1, agent.doWork());  // the test queue holds 4
        }
        assertEquals(0, agent.doWork());
        assertEquals(0, agent.doWork());
        assertEquals(List.of(), parks, "nothing known about the predictor's pace yet: no wait");
        nanos.advance(40_000_000);  // the predictor takes 40 ms to free a slot
        assertEquals(4, committed().size());
        assertEquals(1, agent.doWork());
        assertEquals(1, agent.doWork());
        for (int i = 0; i < 3; i++) {
            submit("b" + i, uri);
        }
        assertEquals(1, agent.doWork());
        assertEquals(1, agent.doWork());  // full again
        assertEquals(0, agent.doWork());  // the spell's first look
        assertEquals(0, agent.doWork());
        assertEquals(List.of(DecoderAgent.BACK_PRESSURE_MAX_PARK_NS), parks, "half of 40 ms, capped");

        nanos.advance(2_000_000);  // a fast model: 2 ms to free a slot
        assertEquals(4, committed().size());
        assertEquals(1, agent.doWork());
        for (int i = 0; i < 4; i++) {
            submit("c" + i, uri);
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(1, agent.doWork());  // full after the third
        }
        assertEquals(0, agent.doWork());
        assertEquals(0, agent.doWork());
        assertEquals(List.of(DecoderAgent.BACK_PRESSURE_MAX_PARK_NS, 1_000_000L), parks, "half of 2 ms");
        assertEquals(List.of(), answers.answers());
    }

    /** What a test keeps of a tensor after the reader moves on. */
    private record Snapshot(int sourcePartition, long sourceOffset, String requestKey) implements TensorView {
        public long address() { return 0; }
        public int lengthBytes() { return 0; }
        public org.agrona.concurrent.UnsafeBuffer buffer() { return null; }
        public long index() { return 0; }
        public int requestKeyLength() { return requestKey.length(); }
        public int rank() { return 0; }
        public int dim(int i) { return 0; }
        public int[] shape() { return new int[0]; }
        public io.inferencefleet.shm.DType dtype() { return null; }
        public long enqueueTimeNs() { return 0; }
    }
}
