package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.ModelFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.openhft.affinity.Affinity;
import org.junit.jupiter.api.Test;

/**
 * The threading contract: a thread pinned before it creates (or clones) its predictor keeps every
 * thread Paddle starts for that predictor on its CPUs. Runs in a fresh JVM because Paddle's math
 * thread pool is per process.
 */
class ThreadAffinityTest {
    private static final String CREATOR = "pinned-predictor";

    /** Forked JVM: args = model dir, CPU to pin to, math threads. Prints one line per task. */
    public static void main(String[] args) throws Exception {
        ModelFiles model = ModelFiles.inDirectory(Path.of(args[0]));
        int cpu = Integer.parseInt(args[1]);
        int mathThreads = Integer.parseInt(args[2]);
        Predictor.paddleVersion();  // load the library on an unpinned thread first
        Set<String> before = taskIds();
        List<Throwable> failure = new ArrayList<>();
        Thread creator = new Thread(() -> {
            BitSet mask = new BitSet();
            mask.set(cpu);
            Affinity.setAffinity(mask);
            PredictorConfig config = PredictorConfig.builder(model.modelFile(), model.paramsFile())
                    .mathThreads(mathThreads).build();
            try (Predictor original = Predictor.create(config);
                 Predictor clone = original.cloneSharingWeights()) {
                int[] shape = TestModels.batchShape(original, 1);
                FloatBuffer input = ByteBuffer.allocateDirect(TestModels.elements(shape) * Float.BYTES)
                        .order(ByteOrder.nativeOrder()).asFloatBuffer();
                clone.setInput(0, input, shape);
                clone.run();
                original.setInput(0, input, shape);
                original.run();
                for (String tid : taskIds()) {
                    if (!before.contains(tid)) {
                        System.out.println("TASK " + tid + " name=" + taskName(tid) + " cpus=" + cpusAllowed(tid));
                    }
                }
            } catch (Throwable t) {
                failure.add(t);
            }
        }, CREATOR);
        creator.start();
        creator.join();
        if (!failure.isEmpty()) {
            failure.get(0).printStackTrace(System.out);
            System.exit(3);
        }
    }

    @Test
    void paddleMathThreadsInheritTheCpuOfThePinnedCreator() throws Exception {
        Path dir = TestModels.tiny();
        int cpu = Runtime.getRuntime().availableProcessors() - 1;
        ForkedJvm.Result result = ForkedJvm.run(ThreadAffinityTest.class, List.of(),
                dir.toString(), Integer.toString(cpu), "2");
        assertEquals(0, result.exitCode(), result.output());
        // Linux names a new thread after its creator: Paddle's threads carry our thread's name.
        List<String> paddleTasks = result.output().lines()
                .filter(line -> line.startsWith("TASK ") && line.contains("name=" + CREATOR.substring(0, 15)))
                .collect(Collectors.toList());
        assertTrue(paddleTasks.size() >= 2,
                "expected the creator and at least one Paddle math thread:\n" + result.output());
        for (String task : paddleTasks) {
            assertTrue(task.endsWith("cpus=" + cpu), "thread escaped CPU " + cpu + ": " + task + "\n" + result.output());
        }
    }

    static Set<String> taskIds() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    static String taskName(String tid) throws IOException {
        return Files.readString(Path.of("/proc/self/task", tid, "comm")).trim();
    }

    static String cpusAllowed(String tid) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/task", tid, "status")).stream()
                .filter(line -> line.startsWith("Cpus_allowed_list:"))
                .map(line -> line.substring("Cpus_allowed_list:".length()).trim())
                .findFirst().orElse("?");
    }
}
