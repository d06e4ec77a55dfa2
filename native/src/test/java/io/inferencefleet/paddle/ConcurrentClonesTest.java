package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/**
 * Clones of one predictor created, run and closed concurrently on several threads. Paddle's shared
 * weight scope is not locked in its inference build; without our serialisation this corrupts it
 * and the JVM dies with SIGSEGV, so the scenario runs in a forked JVM and a crash fails the test.
 */
class ConcurrentClonesTest {
    private static final int THREADS = 3;
    private static final int ROUNDS = 40;

    /** Forked JVM: args = model dir. Exits 0 and prints OK when every thread finished cleanly. */
    public static void main(String[] args) throws Exception {
        PredictorConfig config = TestModels.config(Path.of(args[0])).build();
        try (Predictor original = Predictor.create(config)) {
            FloatBuffer input = PredictorTest.randomImages(1, 1);
            float[] expected = PredictorTest.runOnce(original, input);
            CyclicBarrier start = new CyclicBarrier(THREADS);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        for (int round = 0; round < ROUNDS; round++) {
                            // Line the threads up so that creation and destruction really overlap.
                            start.await();
                            Predictor clone = original.cloneSharingWeights();
                            float[] actual = PredictorTest.runOnce(clone, input);
                            start.await();
                            clone.close();
                            if (!java.util.Arrays.equals(expected, actual)) {
                                throw new AssertionError("clone disagrees with original in round " + round);
                            }
                        }
                    } catch (Throwable e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                    }
                }, "clone-churn-" + t);
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) {
                thread.join();
            }
            if (!failures.isEmpty()) {
                failures.get(0).printStackTrace(System.out);
                System.exit(3);
            }
        }
        System.out.println("OK " + THREADS * ROUNDS + " clones");
    }

    @Test
    void clonesCanBeCreatedRunAndClosedConcurrently() throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(ConcurrentClonesTest.class, List.of(), TestModels.tiny().toString());
        assertEquals(0, result.exitCode(), "forked JVM failed or crashed:\n" + result.output());
        assertTrue(result.output().contains("OK " + THREADS * ROUNDS + " clones"), result.output());
    }
}
