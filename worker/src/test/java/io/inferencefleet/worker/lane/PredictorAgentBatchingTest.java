package io.inferencefleet.worker.lane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.paddle.Engine;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.TensorSpec;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.shm.ClaimStatus;
import io.inferencefleet.shm.DType;
import io.inferencefleet.shm.TensorClaim;
import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.shm.TensorWriter;
import io.inferencefleet.worker.config.BatchPlan;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.job.RecordingAnswers;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.agrona.concurrent.CachedEpochClock;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Micro-batching in the predictor agent, on the real Paddle library and the generated tiny model:
 * tensors waiting in a lane run as one batch whose answers are the ones each tensor gets alone, in
 * order, one per tensor; a lone tensor runs at once.
 */
class PredictorAgentBatchingTest {
    @TempDir
    static Path models;
    @TempDir
    Path temp;

    private static Predictor original;
    private final PreprocessConfig preprocess = PreprocessConfig.imageNet();
    private final CachedEpochClock clock = new CachedEpochClock();
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void loadModel() throws Exception {
        ModelFiles model = BuiltinModels.generate(BuiltinModels.TINY, Files.createDirectories(models.resolve("tiny")), 1);
        original = Predictor.create(PredictorConfig.builder(model.modelFile(), model.paramsFile()).mathThreads(1).build());
    }

    @AfterAll
    static void closeModel() {
        original.close();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** One lane (a real queue of 8 tensors) and a predictor agent reading it. */
    private final class Lane {
        final TensorQueue queue;
        final TensorWriter writer;
        final Map<Long, Job> registry = new ConcurrentHashMap<>();
        final RecordingAnswers answers = new RecordingAnswers();
        final WorkerMetrics metrics = new WorkerMetrics();
        final PredictorAgent agent;

        Lane(String name, BatchPlan batching) {
            this(name, batching, 5 * 60_000, original);  // long cycles: a batch is cut at a cycle's end
        }

        Lane(String name, BatchPlan batching, int rollCycleMs) {
            this(name, batching, rollCycleMs, original);
        }

        Lane(String name, BatchPlan batching, int rollCycleMs, Predictor model) {
            queue = TensorQueue.open(DecoderLane.queueConfig("test-" + name, temp.resolve(name), preprocess.tensorBytes())
                    .capacityTensors(8).rollCycleMs(rollCycleMs).build());
            writer = queue.writer();
            agent = new PredictorAgent(0, List.of(queue.reader(PredictorAgent.READER)), registry, model, preprocess,
                    batching, answers, null, clock, metrics);
            agent.onStart();
            open.add(queue);
            open.add(agent::onClose);
        }

        /** What the decoder does for a job: register it, then commit a tensor of one value with a gradient. */
        Job commit(InferenceRequest request, float pixel) {
            Job job = AgentFixture.job(request);
            TensorClaim claim = writer.newClaim();
            assertEquals(ClaimStatus.OK, writer.tryClaim(preprocess.tensorBytes(), claim));
            for (int i = 0; i < preprocess.tensorBytes(); i += Float.BYTES) {
                claim.buffer().putFloat(i, pixel + (i % 4096) * 1e-4f);
            }
            registry.put(Job.registryKey(0, job.offset()), job);
            claim.requestKey(request.id()).source(0, job.offset()).shape(1, 3, 224, 224).dtype(DType.FLOAT32).commit();
            return job;
        }

        HistogramSnapshot.HistogramDataPointSnapshot batchSizes() {
            return metrics.registry().scrape().stream()
                    .filter(m -> m.getMetadata().getName().equals("fleet_predictor_batch_size"))
                    .map(m -> ((HistogramSnapshot) m).getDataPoints().get(0)).findFirst().orElseThrow();
        }
    }

    private static final float[] PIXELS = {-1.5f, 0.25f, 0.75f, 2.0f, -0.5f};

    /** Each pixel value's scores from an agent that does not batch. */
    private List<float[]> aloneScores(Predictor model) {
        Lane alone = new Lane("alone", BatchPlan.OFF, 5 * 60_000, model);
        for (float p : PIXELS) {
            alone.commit(InferenceRequest.of("alone" + p, "file:///x.jpg"), p);
            assertEquals(1, alone.agent.doWork());
        }
        return alone.answers.answers().stream().map(RecordingAnswers.Answer::scores).toList();
    }

    @Test
    void waitingTensorsRunAsOneBatchAndEachGetsTheScoresItGetsAloneInOrder() {
        batchesMatchTensorsAlone(original);
    }

    @Test
    void onOnnxRuntimeToo() {
        try (Predictor ort = Predictor.create(original.config().toBuilder().engine(Engine.ONNXRUNTIME).build())) {
            assertEquals(Engine.ONNXRUNTIME, ort.engine());
            batchesMatchTensorsAlone(ort);
        }
    }

    private void batchesMatchTensorsAlone(Predictor model) {
        List<float[]> expected = aloneScores(model);
        assertNotEquals(expected.get(0)[0], expected.get(3)[0], "inputs that give different scores");
        Lane lane = new Lane("batched", new BatchPlan(4, 0), 5 * 60_000, model);
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < PIXELS.length; i++) {
            jobs.add(lane.commit(InferenceRequest.of("r" + i, "file:///x.jpg"), PIXELS[i]));
        }
        assertEquals(4, lane.agent.doWork(), "a batch of batch.max");
        assertEquals(1, lane.agent.doWork(), "then the one left, alone");
        assertEquals(0, lane.agent.doWork());

        List<RecordingAnswers.Answer> got = lane.answers.answers();
        assertEquals(jobs, got.stream().map(RecordingAnswers.Answer::job).toList(), "one answer per job, in order");
        for (int i = 0; i < PIXELS.length; i++) {
            assertEquals("OK", got.get(i).outcome());
            assertArrayEquals(expected.get(i), got.get(i).scores(), 1e-5f, "tensor " + i);
        }
        assertEquals(2, lane.batchSizes().getCount(), "two runs");
        assertEquals(5.0, lane.batchSizes().getSum(), 0.0, "of 4 and 1 tensors");
        assertTrue(lane.registry.isEmpty());
    }

    @Test
    void aLoneTensorRunsAtOnceInPlaceEvenWithADelay() {
        Lane lane = new Lane("lone", new BatchPlan(8, 5_000_000_000L));
        lane.commit(InferenceRequest.of("only", "file:///x.jpg"), 0.5f);
        long start = System.nanoTime();
        assertEquals(1, lane.agent.doWork());
        assertTrue(System.nanoTime() - start < 4_000_000_000L, "did not wait the 5 s batch delay");
        assertEquals("OK", lane.answers.answers().get(0).outcome());
        assertEquals(1.0, lane.batchSizes().getSum(), 0.0);
    }

    @Test
    void aBacklogWaitsUpToTheDelayForMoreTensorsOfItsLane() throws Exception {
        Lane lane = new Lane("delay", new BatchPlan(4, 30_000_000_000L));
        java.util.concurrent.CountDownLatch twoWaiting = new java.util.concurrent.CountDownLatch(1);
        Thread decoder = new Thread(() -> {  // the writer is confined to one thread, as a decoder's is
            lane.commit(InferenceRequest.of("a", "file:///x.jpg"), 0.1f);
            lane.commit(InferenceRequest.of("b", "file:///x.jpg"), 0.2f);
            twoWaiting.countDown();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            lane.commit(InferenceRequest.of("c", "file:///x.jpg"), 0.3f);
            lane.commit(InferenceRequest.of("d", "file:///x.jpg"), 0.4f);
        });
        decoder.start();
        twoWaiting.await();
        assertEquals(4, lane.agent.doWork(), "the two waiting and the two that came during the delay");
        decoder.join();
        assertEquals(1, lane.batchSizes().getCount());
        assertEquals(4.0, lane.batchSizes().getSum(), 0.0);
        assertEquals(List.of("a", "b", "c", "d"), lane.answers.answers().stream().map(a -> a.job().request().id()).toList());
    }

    @Test
    void aBatchContinuesAcrossTheEndOfARollCycle() throws Exception {
        Lane lane = new Lane("roll", new BatchPlan(4, 0), 1_000);
        Thread.sleep(1_000 - System.currentTimeMillis() % 1_000 + 20);  // the first two early in one cycle
        lane.commit(InferenceRequest.of("a", "file:///x.jpg"), 0.1f);
        lane.commit(InferenceRequest.of("b", "file:///x.jpg"), 0.2f);
        Thread.sleep(1_100);  // the next two land in the next one-second cycle
        lane.commit(InferenceRequest.of("c", "file:///x.jpg"), 0.3f);
        lane.commit(InferenceRequest.of("d", "file:///x.jpg"), 0.4f);
        assertEquals(4, lane.agent.doWork());
        assertEquals(1, lane.batchSizes().getCount(), "one run");
        assertEquals(4.0, lane.batchSizes().getSum(), 0.0);
    }

    @Test
    void anExpiredOrBrokenJobIsAnsweredAloneAndTheRestOfItsBatchRuns() {
        Lane lane = new Lane("mixed", new BatchPlan(4, 0));
        clock.update(1_000_000);
        lane.commit(InferenceRequest.of("late", "file:///x.jpg").withDeadlineMs(999_999), 0.5f);
        lane.commit(new InferenceRequest("broken", "file:///x.jpg", null, null, Map.of()), 0.5f);
        Job broken = lane.registry.values().stream().filter(j -> j.request().id().equals("broken")).findFirst().orElseThrow();
        // A job without a request never comes from the decoder; here it makes the agent throw for that tensor.
        lane.registry.put(Job.registryKey(0, broken.offset()), new Job(broken.partition(), broken.offset(), -1L,
                TimestampType.NO_TIMESTAMP_TYPE, null, null, null, null, broken.acceptedNs()));
        lane.commit(InferenceRequest.of("ok1", "file:///x.jpg"), 0.5f);
        lane.commit(InferenceRequest.of("ok2", "file:///x.jpg"), 0.5f);
        assertEquals(4, lane.agent.doWork());
        List<RecordingAnswers.Answer> got = lane.answers.answers();
        assertEquals(4, got.size(), "one answer each");
        assertEquals("EXPIRED", got.get(0).outcome());
        assertEquals(ErrorCode.INTERNAL_ERROR, got.get(1).code());
        assertEquals(List.of("OK", "OK"), got.subList(2, 4).stream().map(RecordingAnswers.Answer::outcome).toList());
        assertEquals(2.0, lane.batchSizes().getSum(), 0.0, "the two good ones ran as a batch");
    }

    @Test
    void aModelWithAFixedBatchSizeRefusesBatchingAtStartAndADynamicOneTakesIt() {
        TensorSpec fixed = new TensorSpec("x", new long[] {1, 3, 224, 224}, VarType.Type.FP32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Pipeline.checkBatchDimension(fixed, new BatchPlan(4, 0)));
        assertEquals("Invalid value 4 for predictor.batch.max: the model's input x has a fixed batch size of 1; set"
                + " predictor.batch.max=1", e.getMessage());
        Pipeline.checkBatchDimension(fixed, BatchPlan.OFF);
        Pipeline.checkBatchDimension(original.inputs().get(0), new BatchPlan(64, 0));
    }

    @Test
    void batchingLeftAtItsDefaultIsOffForAModelWithAFixedBatchSizeSoThatTheDefaultWorksWithEveryModel() {
        TensorSpec fixed = new TensorSpec("x", new long[] {1, 3, 224, 224}, VarType.Type.FP32);
        assertEquals(BatchPlan.OFF, Pipeline.batchingFor(fixed, new BatchPlan(4, 0), false));
        assertEquals(new BatchPlan(4, 0), Pipeline.batchingFor(fixed, new BatchPlan(4, 0), true),
                "asked for: kept, and refused by checkBatchDimension");
        assertEquals(new BatchPlan(4, 0), Pipeline.batchingFor(original.inputs().get(0), new BatchPlan(4, 0), false));
    }
}
