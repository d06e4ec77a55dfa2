package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.ModelFiles;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What an extra predictor costs in resident memory on ResNet-50: clones share the weights (and on
 * ONNX Runtime the whole session), so each clone adds only its own working memory. Measured in a
 * fresh JVM per engine after every predictor of the family has run at the same time as the others
 * (sequential runs would let a clone reuse memory another one freed, and hide the cost).
 */
@Tag("slow")
class CloneMemoryTest {
    private static final int CLONES = 3;
    /** Goal of issue 12 for the ONNX Runtime backend: at most this much per extra predictor. */
    private static final long MAX_MIB_PER_CLONE = 60;

    /** Forked JVM: args = model dir, engine. Prints "RSS <stage> <MiB>". */
    public static void main(String[] args) throws Exception {
        Engine engine = Engine.fromKey(args[1]);
        FloatBuffer input = PredictorTest.randomImages(1, 8);
        List<Predictor> clones = new ArrayList<>();
        try (Predictor original = Predictor.create(TestModels.config(Path.of(args[0])).engine(engine).build())) {
            PredictorTest.runOnce(original, input);
            System.out.println("RSS original " + rssMib());
            for (int i = 1; i <= CLONES; i++) {
                clones.add(original.cloneSharingWeights());
                List<Predictor> family = new ArrayList<>(clones);
                family.add(original);
                runTogether(family, input);
                System.out.println("RSS clone" + i + " " + rssMib());
            }
            clones.forEach(Predictor::close);
        }
    }

    /** Every predictor runs twice on its own thread, all at once (one thread per predictor at a time). */
    private static void runTogether(List<Predictor> family, FloatBuffer input) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(family.size());
        for (Predictor predictor : family) {
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    PredictorTest.runOnce(predictor, input);
                    PredictorTest.runOnce(predictor, input);
                } catch (Throwable t) {
                    failures.add(t);
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.get(0));
        }
    }

    /** Forked JVM for the trial: args = model dir, "trial" or an engine. Prints "KEPT <engine> <MiB>". */
    static final class AfterStartUp {
        public static void main(String[] args) throws Exception {
            ModelFiles files = TestModels.files(Path.of(args[0]));
            PredictorConfig config = PredictorConfig.builder(files.modelFile(), files.paramsFile()).build();
            Predictor predictor = args[1].equals("trial") ? EngineTrial.choose(config, new int[] {1, 3, 224, 224}, 3)
                    .predictor() : Predictor.create(config.toBuilder().engine(Engine.fromKey(args[1])).build());
            System.gc();
            System.out.println("KEPT " + predictor.engine().key() + " " + rssMib());
            predictor.close();
        }
    }

    /**
     * The trial (engine auto) loads both engines; the one it closes must not stay resident. Before
     * the fix ~500 MiB of Paddle's engine stayed in Paddle's allocator after ONNX Runtime won.
     */
    @Test
    void theEngineTheTrialDropsDoesNotStayResident() throws Exception {
        String dir = TestModels.resnet50().toString();
        ForkedJvm.Result trial = ForkedJvm.run(AfterStartUp.class, List.of(), dir, "trial");
        assertEquals(0, trial.exitCode(), trial.output());
        String[] kept = trial.output().lines().filter(l -> l.startsWith("KEPT ")).findFirst().orElseThrow().split(" ");
        ForkedJvm.Result alone = ForkedJvm.run(AfterStartUp.class, List.of(), dir, kept[1]);
        assertEquals(0, alone.exitCode(), alone.output());
        long aloneMib = Long.parseLong(alone.output().lines().filter(l -> l.startsWith("KEPT ")).findFirst().orElseThrow()
                .split(" ")[2]);
        long trialMib = Long.parseLong(kept[2]);
        System.out.printf("resnet50 RSS after start-up: trial kept %s at %d MiB, %s alone %d MiB%n", kept[1], trialMib,
                kept[1], aloneMib);
        assertTrue(trialMib <= aloneMib + 150, "the dropped engine stayed resident: " + trialMib + " vs " + aloneMib);
    }

    @Test
    void anExtraOnnxRuntimePredictorCostsAtMost60MiB() throws Exception {
        double perClone = perCloneMib(Engine.ONNXRUNTIME);
        double paddle = perCloneMib(Engine.PADDLE);
        System.out.printf("resnet50 RSS per extra predictor (mean over %d clones): onnxruntime %.1f MiB, paddle %.1f MiB%n",
                CLONES, perClone, paddle);
        assertTrue(perClone <= MAX_MIB_PER_CLONE, "ONNX Runtime clone costs " + perClone + " MiB");
    }

    private static double perCloneMib(Engine engine) throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(CloneMemoryTest.class, List.of(), TestModels.resnet50().toString(),
                engine.key());
        assertEquals(0, result.exitCode(), result.output());
        List<Long> rss = result.output().lines().filter(l -> l.startsWith("RSS "))
                .map(l -> Long.parseLong(l.substring(l.lastIndexOf(' ') + 1))).toList();
        assertEquals(CLONES + 1, rss.size(), result.output());
        System.out.println(engine.key() + " RSS after original, clone 1.." + CLONES + " (MiB): " + rss);
        return (rss.get(CLONES) - rss.get(0)) / (double) CLONES;
    }

    static long rssMib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
