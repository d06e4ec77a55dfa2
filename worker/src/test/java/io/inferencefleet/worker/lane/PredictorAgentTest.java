package io.inferencefleet.worker.lane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.shm.DType;
import io.inferencefleet.shm.TensorClaim;
import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.shm.TensorWriter;
import io.inferencefleet.worker.config.BatchPlan;
import io.inferencefleet.worker.config.ThreadPlan;
import io.inferencefleet.worker.fetch.FetchConfig;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.job.RecordingAnswers;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.agrona.concurrent.CachedEpochClock;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The predictor agent driven through {@code doWork()} without Kafka, on the real Paddle library and
 * the generated tiny model: each committed tensor leaves as exactly one answer.
 */
class PredictorAgentTest {
    @TempDir
    static Path models;
    @TempDir
    Path temp;

    private static Predictor original;
    private final PreprocessConfig preprocess = PreprocessConfig.imageNet();
    private final Map<Long, Job> registry = new ConcurrentHashMap<>();
    private final RecordingAnswers answers = new RecordingAnswers();
    private final CachedEpochClock clock = new CachedEpochClock();
    private final WorkerMetrics metrics = new WorkerMetrics();
    private TensorQueue queue;
    private TensorWriter writer;
    private PredictorAgent agent;

    @BeforeAll
    static void loadModel() throws Exception {
        ModelFiles model = BuiltinModels.generate(BuiltinModels.TINY, Files.createDirectories(models.resolve("tiny")), 1);
        original = Predictor.create(PredictorConfig.builder(model.modelFile(), model.paramsFile()).mathThreads(1).build());
    }

    @AfterAll
    static void closeModel() {
        original.close();
    }

    @BeforeEach
    void setUp() {
        queue = AgentFixture.queue(temp.resolve("lane"), preprocess.tensorBytes());
        writer = queue.writer();
        agent = new PredictorAgent(0, List.of(queue.reader(PredictorAgent.READER)), registry, original, preprocess,
                BatchPlan.OFF, answers, null, clock, metrics);
        agent.onStart();
        clock.update(1_000_000);
    }

    @AfterEach
    void tearDown() {
        agent.onClose();
        queue.close();
    }

    /** What the decoder does for a job: register it, then commit a tensor (here: constant pixels). */
    private Job commit(InferenceRequest request, float pixel) {
        Job job = AgentFixture.job(request);
        TensorClaim claim = writer.newClaim();
        assertEquals(io.inferencefleet.shm.ClaimStatus.OK, writer.tryClaim(preprocess.tensorBytes(), claim));
        for (int i = 0; i < preprocess.tensorBytes(); i += Float.BYTES) {
            claim.buffer().putFloat(i, pixel);
        }
        registry.put(Job.registryKey(0, job.offset()), job);
        claim.requestKey(request.id()).source(0, job.offset()).shape(1, 3, 224, 224).dtype(DType.FLOAT32).commit();
        return job;
    }

    @Test
    void aTensorBecomesOneOkAnswerWithTheModelsScores() {
        Job job = commit(InferenceRequest.of("a", "file:///x.jpg"), 0.5f);
        assertEquals(1, agent.doWork());
        assertEquals(0, agent.doWork());
        List<RecordingAnswers.Answer> got = answers.answers();
        assertEquals(1, got.size());
        assertEquals("OK", got.get(0).outcome());
        assertEquals(job, got.get(0).job());
        float sum = 0;
        for (float s : got.get(0).scores()) {
            sum += s;
        }
        assertEquals(1.0, sum, 1e-4, "softmax probabilities");
        assertTrue(registry.isEmpty());
        assertTrue(metrics.registry().scrape().stream()
                .anyMatch(m -> m.getMetadata().getName().equals("fleet_predictor_busy_seconds")));
    }

    @Test
    void aRequestWhoseDeadlinePassedWhileQueuedExpiresWithoutRunningTheModel() {
        commit(InferenceRequest.of("late", "file:///x.jpg").withDeadlineMs(999_999), 0.5f);
        commit(InferenceRequest.of("in-time", "file:///x.jpg").withDeadlineMs(1_000_001), 0.5f);
        agent.doWork();
        agent.doWork();
        assertEquals(List.of("EXPIRED", "OK"), answers.answers().stream().map(RecordingAnswers.Answer::outcome).toList());
    }

    @Test
    void anythingThrownStillAnswersTheJobAndTheNextTensorIsServed() {
        commit(new InferenceRequest("broken", "file:///x.jpg", null, null, Map.of()), 0.5f);
        // A job whose request vanished never comes from the decoder; here it makes the agent throw mid-tensor.
        Job broken = registry.values().iterator().next();
        registry.put(Job.registryKey(0, broken.offset()), new Job(broken.partition(), broken.offset(), -1L, TimestampType.NO_TIMESTAMP_TYPE, null, null, null,
                null, broken.acceptedNs()));
        commit(InferenceRequest.of("next", "file:///x.jpg"), 0.5f);
        agent.doWork();
        agent.doWork();
        List<RecordingAnswers.Answer> got = answers.answers();
        assertEquals(List.of(ErrorCode.INTERNAL_ERROR), got.subList(0, 1).stream().map(RecordingAnswers.Answer::code).toList());
        assertEquals("OK", got.get(1).outcome());
        assertEquals(1.0, metrics.agentErrors("predictor-0"), 0.0);
    }

    @Test
    void anAgentThatCannotStartMakesThePipelineNotAlive() throws Exception {
        // Regression: an Error or exception in onStart (here: cloning a closed predictor) ended the thread
        // silently while its lane kept accepting jobs; now the pipeline reports it.
        ModelFiles model = BuiltinModels.generate(BuiltinModels.TINY, Files.createDirectories(temp.resolve("m")), 1);
        Predictor closed = Predictor.create(PredictorConfig.builder(model.modelFile(), model.paramsFile()).build());
        closed.close();
        try (ImageFetcher fetcher = new ImageFetcher(FetchConfig.defaults());
             Pipeline pipeline = new Pipeline(new ThreadPlan(1, 1, 1, ThreadPlan.Pinning.NODE), BatchPlan.OFF, "t", temp.resolve("shm"),
                     8, closed, preprocess, fetcher, answers, i -> null, clock, metrics)) {
            assertFalse(pipeline.alive(), "not alive before start");
            pipeline.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (pipeline.alive() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertFalse(pipeline.alive());
            assertTrue(metrics.agentErrors("pipeline") >= 1);
        }
    }

    @Test
    void closingFromAnInterruptedThreadStillWaitsForEveryAgent() throws Exception {
        // Regression: Agrona's AgentRunner.close returns at once on an interrupted thread; the queues were
        // then unmapped under agents that might still use them.
        try (ImageFetcher fetcher = new ImageFetcher(FetchConfig.defaults())) {
            Pipeline pipeline = new Pipeline(new ThreadPlan(1, 1, 2, ThreadPlan.Pinning.NODE), BatchPlan.OFF, "t", temp.resolve("shm2"),
                    8, original, preprocess, fetcher, answers, i -> null, clock, metrics);
            pipeline.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!pipeline.alive() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            List<Thread> agents = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("decoder-") || t.getName().startsWith("predictor-")).toList();
            assertEquals(3, agents.size(), agents.toString());
            Thread.currentThread().interrupt();
            pipeline.close();
            assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
            for (Thread t : agents) {
                assertFalse(t.isAlive(), t.getName() + " still runs after close");
            }
        }
    }
}
