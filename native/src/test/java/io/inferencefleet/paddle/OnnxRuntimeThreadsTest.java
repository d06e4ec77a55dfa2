package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import net.openhft.affinity.Affinity;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ONNX Runtime's threads follow the same contract as Paddle's: the session's intra-op pool has
 * {@code mathThreads - 1} threads (the calling thread is the last one), all started by the thread
 * that creates the predictor and so confined to its CPUs; a clone shares the session and starts none.
 * Runs in a fresh JVM per case, counting the tasks in {@code /proc/self/task}.
 */
class OnnxRuntimeThreadsTest {
    private static final String CREATOR = "ort-creator";
    private static final String CLONER = "ort-cloner";

    /** Forked JVM: args = model dir, CPU to pin the creator to, math threads. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int cpu = Integer.parseInt(args[1]);
        int mathThreads = Integer.parseInt(args[2]);
        Predictor.paddleVersion();  // load the library on an unpinned thread first
        Set<String> before = ThreadAffinityTest.taskIds();
        FloatBuffer input = PredictorTest.randomImages(1, 2);
        List<Throwable> failure = new ArrayList<>();
        Predictor[] original = new Predictor[1];
        String[] creatorTid = new String[1];
        Thread creator = new Thread(() -> {
            pin(cpu);
            creatorTid[0] = ownTid();
            try {
                original[0] = Predictor.create(TestModels.config(dir).engine(Engine.ONNXRUNTIME)
                        .mathThreads(mathThreads).build());
                PredictorTest.runOnce(original[0], input);
                print(before, "CREATED");
            } catch (Throwable t) {
                failure.add(t);
            }
        }, CREATOR);
        creator.start();
        creator.join();
        // join() returns when the Java thread is done; the OS task can linger a moment after (seen in CI), and would
        // be counted as one of the session's pool threads below.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (creatorTid[0] != null && java.nio.file.Files.exists(Path.of("/proc/self/task", creatorTid[0]))
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread cloner = new Thread(() -> {
            try (Predictor clone = original[0].cloneSharingWeights()) {
                PredictorTest.runOnce(clone, input);
                print(before, "CLONED");
            } catch (Throwable t) {
                failure.add(t);
            }
        }, CLONER);
        if (failure.isEmpty()) {
            cloner.start();
            cloner.join();
        }
        if (original[0] != null) {
            original[0].close();
        }
        if (!failure.isEmpty()) {
            failure.get(0).printStackTrace(System.out);
            System.exit(3);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void intraOpThreadsFollowMathThreadsAndThePinnedCreator(int mathThreads) throws Exception {
        int cpu = Runtime.getRuntime().availableProcessors() - 1;
        ForkedJvm.Result result = ForkedJvm.run(OnnxRuntimeThreadsTest.class, List.of(),
                TestModels.tiny().toString(), Integer.toString(cpu), Integer.toString(mathThreads));
        assertEquals(0, result.exitCode(), result.output());
        // Linux names a new thread after its creator: the session's threads carry our thread's name.
        List<String> created = tasks(result.output(), "CREATED", CREATOR);
        System.out.printf("math.threads=%d: the creator and %d ONNX Runtime thread(s): %s%n", mathThreads,
                created.size() - 1, created);
        assertEquals(mathThreads, created.size(), "the creator plus math.threads - 1 intra-op threads:\n" + result.output());
        for (String task : created) {
            assertTrue(task.endsWith("cpus=" + cpu), "thread escaped CPU " + cpu + ": " + task + "\n" + result.output());
        }
        List<String> cloned = tasks(result.output(), "CLONED", CLONER);
        assertEquals(1, cloned.size(), "a clone shares the session's pool and starts no thread:\n" + result.output());
        // The creator thread has ended by then; the pool it started lives on with the session.
        assertEquals(mathThreads - 1, tasks(result.output(), "CLONED", CREATOR).size(),
                "the session's pool while a clone runs:\n" + result.output());
    }

    private static List<String> tasks(String output, String phase, String name) {
        return output.lines().filter(l -> l.startsWith(phase + " ") && l.contains("name=" + name))
                .collect(Collectors.toList());
    }

    /** This thread's task id, from /proc/thread-self (a link to {@code <pid>/task/<tid>}). */
    private static String ownTid() {
        try {
            return java.nio.file.Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void pin(int cpu) {
        BitSet mask = new BitSet();
        mask.set(cpu);
        Affinity.setAffinity(mask);
    }

    private static void print(Set<String> before, String phase) throws java.io.IOException {
        for (String tid : ThreadAffinityTest.taskIds()) {
            if (!before.contains(tid)) {
                System.out.println(phase + " " + tid + " name=" + ThreadAffinityTest.taskName(tid) + " cpus="
                        + ThreadAffinityTest.cpusAllowed(tid));
            }
        }
    }
}
